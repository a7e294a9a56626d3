import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import { EVENT_TAGS } from '../services/events.js';
import { TestBrowser, type PageResponse } from '../testing/browser.js';
import { codeFor, passwordStepThrough, totpAccountAtSecondStep, useTestServer } from '../testing/http-harness.js';
import { DIALECTS } from '../testing/service-harness.js';

/**
 * The second step posted twice at once from one browser — a double-click on Verify, the extension's
 * auto-submit plus an Enter, a script posting twice: same token T, same right code, same cookies. One
 * post logs in; the other must not be a failed second factor in the owner's security history, must take
 * nothing from the guessing limits, and answers as a use of the used T ("Log in again" to a browser
 * without the new session). An attacker's replay of a used code, with their own T, is refused and
 * counted as before. Free-running rounds (PostgreSQL interleaves the two by itself; SQLite's one
 * connection runs one after the other, so there only the pinned interleaving shows it) and one pinned
 * interleaving per factor: the duplicate checks its code after the other post used it. The service
 * tests (services/second-factor-duplicates.test.ts) pin the other orders.
 */
const ROUNDS = 6;
const WRONG_GUESS_MESSAGES = /This code has already been used|This recovery code has already been used|Invalid code|attempts? left/;

describe.each(DIALECTS)('a double submit of the second step over HTTP on %s', (dialect) => {
  let server: RunningServer;
  useTestServer(dialect, (started) => {
    server = started;
  });

  /** A fresh account with TOTP, logged out, its password just accepted: the browser is on the second-step page. */
  async function atSecondStep() {
    const { b, username, url, secret, recoveryCodes } = await totpAccountAtSecondStep(server);
    const user = (await server.services.accounts.findByUsername(username))!;
    // The enabling code spent this step: the login's code is the next one (accepted as one step of drift).
    return { b, user, url, code: codeFor(secret, 1), recoveryCodes };
  }

  /** One answer logs in; the other is the "used link" page, never a wrong-guess message. */
  function expectLoginAndUsedLink(answers: PageResponse[], round: number | string) {
    const [login, duplicate] = answers[0]!.status === 303 ? answers : [answers[1]!, answers[0]!];
    expect(login!.status, `round ${round}`).toBe(303);
    expect(login!.location).toBe(ROUTES.manageAccount);
    expect(duplicate!.status, `round ${round}`).toBe(400);
    expect(duplicate!.text).toContain('<h1>Log in again</h1>');
    expect(duplicate!.text).toContain('This login link has already been used. Please log in again.');
    expect(duplicate!.text).not.toMatch(WRONG_GUESS_MESSAGES);
  }

  /** The owner's security history (read through the page) and what was counted. */
  async function afterwards(b: TestBrowser, userId: string) {
    const history = await b.get(ROUTES.securityHistory);
    expect(history.status).toBe(200);
    const events = await server.services.events.list(userId);
    const guesses = await server.services.db.selectFrom('totp_guesses').select('id').where('user_id', '=', userId).execute();
    return {
      logins: events.filter((event) => event.tag === EVENT_TAGS.loginSuccess).length,
      failures: events.filter((event) => event.tag === EVENT_TAGS.secondFactorFailure).length,
      historySaysFailed: history.text.includes('Failed second factor'),
      guesses: guesses.length,
    };
  }

  /**
   * Hold `services[name].method` so that the first of the two posts to call it goes on only once the
   * second has called it too (both have passed the token check), and the second only once `secondMayGo`.
   */
  function holdSecondCall<T extends object, K extends keyof T>(target: T, method: K, secondMayGo: (firstCall: Promise<unknown>) => Promise<unknown>) {
    const real = target[method] as (...args: unknown[]) => Promise<unknown>;
    let calls = 0;
    let secondArrived!: () => void;
    const arrived = new Promise<void>((resolve) => {
      secondArrived = resolve;
    });
    let firstCall!: Promise<unknown>;
    const timeout = <V>(promise: Promise<V>) =>
      Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the other post never came')), 5_000))]);
    (target[method] as unknown) = async (...args: unknown[]) => {
      const call = calls++;
      if (call === 0) {
        await timeout(arrived);
        firstCall = real.apply(target, args);
        return firstCall;
      }
      secondArrived();
      if (call === 1) await timeout(secondMayGo(arrived.then(() => firstCall)));
      return real.apply(target, args);
    };
    return () => {
      (target[method] as unknown) = real;
    };
  }

  it('the right authentication-app code posted twice at once: logged in, the duplicate answers "Log in again", no failure recorded', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { b, user, url, code } = await atSecondStep();
      const answers = await Promise.all([b.post(url, { [FIELDS.totpValue]: code }), b.post(url, { [FIELDS.totpValue]: code })]);
      expectLoginAndUsedLink(answers, round);
      expect(await afterwards(b, user.id), `round ${round}`).toEqual({ logins: 1, failures: 0, historySaysFailed: false, guesses: 0 });
    }
  });

  it('pinned: the duplicate checks its code after the other post used it (and T with it)', async () => {
    const { b, user, url, code } = await atSecondStep();
    // The second caller checks the code once the first's check has returned: the step is spent and T burnt.
    const restore = holdSecondCall(server.services.totp, 'verify', (firstCall) => firstCall);
    try {
      const answers = await Promise.all([b.post(url, { [FIELDS.totpValue]: code }), b.post(url, { [FIELDS.totpValue]: code })]);
      expectLoginAndUsedLink(answers, 'pinned');
    } finally {
      restore();
    }
    expect(await afterwards(b, user.id)).toEqual({ logins: 1, failures: 0, historySaysFailed: false, guesses: 0 });
  });

  it('pinned: the duplicate looks its recovery code up after the other post burnt it', async () => {
    const { b, user, url, recoveryCodes } = await atSecondStep();
    const recoveryUrl = url.replace(ROUTES.twoFactor, ROUTES.recoveryCode);
    let codeBurnt!: () => void;
    const burnt = new Promise<void>((resolve) => {
      codeBurnt = resolve;
    });
    const realUse = server.services.recoveryCodes.use;
    server.services.recoveryCodes.use = async (...args) => {
      try {
        return await realUse(...args);
      } finally {
        codeBurnt();
      }
    };
    const restore = holdSecondCall(server.services.recoveryCodes, 'check', () => burnt);
    try {
      const answers = await Promise.all([
        b.post(recoveryUrl, { [FIELDS.recoveryCodeValue]: recoveryCodes[0]! }),
        b.post(recoveryUrl, { [FIELDS.recoveryCodeValue]: recoveryCodes[0]! }),
      ]);
      expectLoginAndUsedLink(answers, 'pinned');
    } finally {
      restore();
      server.services.recoveryCodes.use = realUse;
    }
    expect(await afterwards(b, user.id)).toEqual({ logins: 1, failures: 0, historySaysFailed: false, guesses: 0 });
  });

  it('an attacker replaying the code the owner just used, from their own login: refused as used, counted, in the owner’s history', async () => {
    const owner = await atSecondStep();
    const attacker = new TestBrowser(server.url);
    const attackerUrl = await passwordStepThrough(attacker, owner.user.username);
    expect((await owner.b.post(owner.url, { [FIELDS.totpValue]: owner.code })).location).toBe(ROUTES.manageAccount);
    const replay = await attacker.post(attackerUrl, { [FIELDS.totpValue]: owner.code });
    expect(replay.status).toBe(401);
    expect(replay.text).toContain('This code has already been used. Wait for the next code and try again.');
    expect(replay.text).toContain('4 attempts left before two-factor login is paused for 15 minutes.');
    expect(await afterwards(owner.b, owner.user.id)).toEqual({ logins: 1, failures: 1, historySaysFailed: true, guesses: 1 });
  });

  it('pinned: an attacker’s replay checked in the duplicate’s window, with their own T, is still counted', async () => {
    const owner = await atSecondStep();
    const attacker = new TestBrowser(server.url);
    const attackerUrl = await passwordStepThrough(attacker, owner.user.username);
    // Whichever post checks the code first logs in; the other finds it used, with a T of its own still unused.
    const restore = holdSecondCall(server.services.totp, 'verify', (firstCall) => firstCall);
    let answers: PageResponse[];
    try {
      answers = await Promise.all([
        owner.b.post(owner.url, { [FIELDS.totpValue]: owner.code }),
        attacker.post(attackerUrl, { [FIELDS.totpValue]: owner.code }),
      ]);
    } finally {
      restore();
    }
    expect(answers.map((answer) => answer.status).sort()).toEqual([303, 401]);
    expect(answers.find((answer) => answer.status === 401)!.text).toContain('This code has already been used.');
    const loggedIn = answers[0]!.status === 303 ? owner.b : attacker;
    expect(await afterwards(loggedIn, owner.user.id)).toEqual({ logins: 1, failures: 1, historySaysFailed: true, guesses: 1 });
  });

  it('a second tab of a login finished in the first: "already logged in", not "did not come from this site"; CSRF still refuses', async () => {
    const { b, url, code, recoveryCodes } = await atSecondStep();
    // Tab B's forms carry the token of the cookie before the login; tab A then logs in (a new session cookie).
    const tabB = b.csrfToken;
    const tabA = await b.post(url, { [FIELDS.totpValue]: code });
    expect(tabA.status).toBe(303);
    for (const [path, field, value] of [
      [url, FIELDS.totpValue, code],
      [url.replace(ROUTES.twoFactor, ROUTES.recoveryCode), FIELDS.recoveryCodeValue, recoveryCodes[0]!],
    ] as const) {
      const late = await b.post(path, { [field]: value }, { csrf: tabB });
      expect(late.status, path).toBe(403);
      expect(late.text).toContain('<h1>Already logged in</h1>');
      expect(late.text).toContain('This login was finished in another tab or window');
      expect(late.text).not.toContain('did not come from this site');
    }
    const json = await b.post(
      `${ROUTES.webauthnAuthenticateOptions}${url.slice(url.indexOf('?'))}`,
      {},
      { csrf: tabB, headers: { accept: 'application/json' } },
    );
    expect(json.status).toBe(403);
    expect(json.text).toContain('This login was finished in another tab or window');
    // Nothing was used by the refused forms: the recovery code still works.
    const user = (await server.services.accounts.findByUsername((await b.get(ROUTES.manageAccount)).text.match(/Logged in as <strong><bdi>([^<]+)</)![1]!))!;
    expect(await server.services.recoveryCodes.check(user.id, recoveryCodes[0]!)).toBe('ok');
    // The cause is known only for a login step in a logged-in browser: any other forged or stale form keeps the CSRF words.
    const elsewhere = await b.post(ROUTES.logout, {}, { csrf: tabB });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.text).toContain('did not come from this site');
    const anonymous = new TestBrowser(server.url);
    await anonymous.get(url);
    const forged = await anonymous.post(url, { [FIELDS.totpValue]: code }, { csrf: tabB });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('did not come from this site');
  });
});
