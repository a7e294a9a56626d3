import { describe, expect, it } from 'vitest';
import { FIELDS } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import type { Login, SecondFactorLocks } from '../services/login.js';
import { totpAccountAtSecondStep, useTestServer } from '../testing/http-harness.js';

/**
 * The two-factor page says the year's spent TOTP budget for the account's own factors (services/login.ts,
 * totpBudgetSpent), because the service's sentence cannot name them. The page must pick that sentence by the
 * lock's kind: it once compared the service's words with the sentence it expected, so rewording them in one
 * place silently brought the factor-less sentence back to the page. Here the service words its refusal
 * differently, and the page must not care.
 */
const REWORDED = 'Your authenticator is switched off for this account until next year.';

/** How the service's refusal of the app's codes begins (services/login.ts), whichever factors it goes on to name. */
const APP_REFUSED = 'so codes from the app are refused for now';

/** The sentence for an account with the app and recovery codes but no security key, as Preact writes it. */
const FOR_APP_ONLY_ACCOUNT = 'Use a recovery code if you have one left, then change your password.';

/** `login` with every message of the app's year lock reworded, as another wording of the service would say it. */
function reworded(login: Login): Login {
  const rewordMessage = <T extends { message: string }>(said: T): T => (said.message.includes(APP_REFUSED) ? { ...said, message: REWORDED } : said);
  const rewordLocks = (locks: SecondFactorLocks): SecondFactorLocks => ({ ...locks, totp: locks.totp && rewordMessage(locks.totp) });
  return {
    ...login,
    async secondStepPage(token, origin) {
      const page = await login.secondStepPage(token, origin);
      return page.ok ? { ...page, locks: rewordLocks(page.locks) } : page;
    },
    async secondFactorLocks(userId, origin) {
      return rewordLocks(await login.secondFactorLocks(userId, origin));
    },
    async totpStep(input, origin) {
      const result = await login.totpStep(input, origin);
      if (result.kind !== 'blocked' && result.kind !== 'invalid') return result;
      const said = rewordMessage(result);
      return said.locks ? { ...said, locks: rewordLocks(said.locks) } : said;
    },
  };
}

describe('the two-factor page says the app’s year lock by its kind, not by the service’s words', () => {
  let server: RunningServer;
  useTestServer('sqlite', (started) => {
    server = started;
    // This server's own services (each test server has its own): the routes read `services.login` per request.
    server.services.login = reworded(server.services.login);
  });

  /** A fresh account with the app (and recovery codes), `spent` of the year's guesses used, its password just accepted. */
  const atSecondStep = (spent: number) =>
    totpAccountAtSecondStep(server, {
      beforePassword: async (username) => {
        if (spent === 0) return;
        const user = (await server.services.accounts.findByUsername(username))!;
        const now = Date.now();
        await server.services.db
          .insertInto('totp_guesses')
          .values(Array.from({ length: spent }, (_, i) => ({ user_id: user.id, guessed_at: now - (i + 1) * 1000 })))
          .execute();
      },
    });

  /** The account's sentence, said once, and the service's own wording nowhere. */
  function expectAccountSentenceOnce(html: string) {
    expect(html.split(FOR_APP_ONLY_ACCOUNT)).toHaveLength(2);
    expect(html.split(APP_REFUSED)).toHaveLength(2);
    expect(html).not.toContain(REWORDED);
    expect(html).not.toContain(`name="${FIELDS.totpValue}"`);
  }

  it('on arrival, and when a code sent anyway is refused for the spent budget', async () => {
    const { b, url } = await atSecondStep(server.services.config.rateLimits.totpGuessesPerYear.max);
    const arrival = await b.get(url);
    expect(arrival.status).toBe(200);
    expectAccountSentenceOnce(arrival.text);
    // A page opened before: the refusal is the budget's (429), said among the errors and not again in the app's part.
    const refused = await b.post(url, { [FIELDS.totpValue]: '123456' });
    expect(refused.status).toBe(429);
    expectAccountSentenceOnce(refused.text);
    expect(refused.text).not.toContain('id="totp-locked"');
  });

  it('when the wrong code just sent spent the last guess of the year', async () => {
    const { b, url } = await atSecondStep(server.services.config.rateLimits.totpGuessesPerYear.max - 1);
    await b.get(url);
    const answer = await b.post(url, { [FIELDS.totpValue]: '000000' });
    expect(answer.status).toBe(401);
    expect(answer.text).toContain('Invalid code.');
    // Not sent back to the app the page now says is refused.
    expect(answer.text).not.toContain('try the current code');
    // The lock the step itself learnt, in the app's part.
    expect(answer.text).toContain('id="totp-locked"');
    expectAccountSentenceOnce(answer.text);
  });
});

describe('the two-factor page says a pause once, by its kind', () => {
  /** What the locks read a statement after the refusal say when the minute has rolled over meanwhile. */
  const A_MINUTE_LATER = 'Too many failed attempts. Try again in 14 minutes.';
  let server: RunningServer;
  useTestServer('sqlite', (started) => {
    server = started;
    const login = server.services.login;
    const later = (locks: SecondFactorLocks): SecondFactorLocks => ({ ...locks, all: locks.all && { ...locks.all, message: A_MINUTE_LATER } });
    server.services.login = {
      ...login,
      async secondFactorLocks(userId, origin) {
        return later(await login.secondFactorLocks(userId, origin));
      },
      async totpStep(input, origin) {
        const result = await login.totpStep(input, origin);
        return result.kind === 'blocked' && result.locks ? { ...result, locks: later(result.locks) } : result;
      },
    };
  });

  it('when a code is refused because two-factor login is paused, and the locks read after it word the pause otherwise', async () => {
    const { b, url } = await totpAccountAtSecondStep(server);
    const { max } = server.services.config.rateLimits.secondFactorPerAccount;
    for (let i = 0; i < max; i++) expect((await b.post(url, { [FIELDS.totpValue]: '000000' })).status).not.toBe(200);
    const refused = await b.post(url, { [FIELDS.totpValue]: '000000' });
    expect(refused.status).toBe(429);
    expect(refused.text).toMatch(/Too many failed attempts\. Try again in \d+ minutes?\./);
    expect(refused.text.match(/Too many failed attempts\./g)).toHaveLength(1);
  });
});
