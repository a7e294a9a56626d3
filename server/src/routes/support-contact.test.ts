import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { SupportContact } from '../config.js';
import type { RunningServer } from '../main.js';
import { TestBrowser } from '../testing/browser.js';
import { codeFor, registerThrough, totpAccountAtSecondStep, useTestServer } from '../testing/http-harness.js';

/**
 * LATCHKEY_SUPPORT_CONTACT on the pages where someone who lost every factor and code finds out: the second
 * step (also once it is locked, or its app codes are refused for the year), the recovery-code page, and the
 * help on the account and recovery-codes pages. The servers share one process, so one render cache
 * (views/render.ts): each must still show its own contact, or none.
 */
const CONTACTS: [string, SupportContact | undefined][] = [
  ['unset', undefined],
  ['an address', { href: 'mailto:security@index.example.org', label: 'security@index.example.org' }],
  [
    'a URL',
    {
      href: 'https://index.example.org/help/account-recovery?from=latchkey&amp=1',
      label: 'https://index.example.org/help/account-recovery?from=latchkey&amp=1',
    },
  ],
];

const UNSET_SENTENCE = 'To ask, contact the administrators of this index.';

/** The help section "What if I lose every method?" (views/help.tsx, WhyRecoveryCodes), up to where the contact goes. */
const LOST_EVERYTHING = 'If you have lost your devices and your recovery codes, contact the administrators of this index';

/** The first sentence of the app's year lock (services/login.ts: TOTP_REFUSED, in every wording of it), as Preact writes it. */
const APP_REFUSED = 'Too many wrong authentication-app codes have been tried on this account, so codes from the app are refused for now';

describe.each(CONTACTS)('the second-step pages with the support contact %s', (_name, supportContact) => {
  let server: RunningServer;
  useTestServer(
    'sqlite',
    (started) => {
      server = started;
    },
    supportContact ? { supportContact } : {},
  );

  const escaped = (text: string) => text.replaceAll('&', '&amp;');

  /** `lead`, then the contact as a link when set, or a full stop when unset — and no other server's contact. */
  function expectContactAfter(html: string, lead: string) {
    if (supportContact) {
      expect(html).toContain(`${lead} at <a href="${escaped(supportContact.href)}">${escaped(supportContact.label)}</a>.`);
      expect(html).not.toContain(`${lead}.`);
    } else {
      expect(html).toContain(`${lead}.`);
      expect(html).not.toContain('mailto:');
    }
    for (const other of CONTACTS) if (other[1] && other[1] !== supportContact) expect(html).not.toContain(escaped(other[1].label));
  }

  /** What the page must say about reaching the administrators, as Preact writes it. */
  function expectContact(html: string) {
    expect(html).toContain('only the administrators of this index can let you back in: after verifying your identity they can reset two-factor');
    if (supportContact) {
      const escaped = supportContact.href.replaceAll('&', '&amp;');
      expect(html).toContain(`To ask, contact the administrators of this index at <a href="${escaped}">${supportContact.label.replaceAll('&', '&amp;')}</a>.`);
      expect(html).not.toContain(UNSET_SENTENCE);
    } else {
      // Said plainly, with no link that leads nowhere.
      expect(html).toContain(UNSET_SENTENCE);
      expect(html).not.toContain('mailto:');
    }
    for (const other of CONTACTS) if (other[1] && other[1] !== supportContact) expect(html).not.toContain(other[1].label.replaceAll('&', '&amp;'));
  }

  it('the two-factor and recovery-code pages say how to reach the administrators', async () => {
    const { b, url } = await totpAccountAtSecondStep(server);
    for (let round = 0; round < 2; round++) {
      // Twice: the second is spliced into the cached shape.
      const page = await b.get(url);
      expect(page.status).toBe(200);
      expectContact(page.text);
      expect(page.text).toContain('Log in with a recovery code</a> instead.');
    }
    const recovery = await b.get(url.replace(ROUTES.twoFactor, ROUTES.recoveryCode));
    expect(recovery.status).toBe(200);
    expect(recovery.text).toContain('<h2 id="locked-out-heading">No recovery code left?</h2>');
    expectContact(recovery.text);
  });

  it('once too many wrong codes paused the second step, the contact is there with the lock-out message', async () => {
    const { b, url } = await totpAccountAtSecondStep(server);
    await b.get(url);
    let answer = await b.post(url, { [FIELDS.totpValue]: '000000' });
    for (let tries = 1; answer.status !== 429 && tries < 10; tries++) answer = await b.post(url, { [FIELDS.totpValue]: '000000' });
    expect(answer.status).toBe(429);
    expect(answer.text).toMatch(/Too many/);
    expect(answer.text).toContain('Recovery codes, if you have any left, are paused too until then.');
    expect(answer.text).not.toContain('Log in with a recovery code</a>');
    expectContact(answer.text);
    const recovery = await b.get(url.replace(ROUTES.twoFactor, ROUTES.recoveryCode));
    expect(recovery.text).toMatch(/Too many/);
    expectContact(recovery.text);
  });

  it('the help on the account page and on the recovery-codes page says how to reach the administrators', async () => {
    const b = new TestBrowser(server.url);
    await registerThrough(b, server);
    for (let round = 0; round < 2; round++) {
      const account = await b.get(ROUTES.manageAccount);
      expect(account.status).toBe(200);
      expect(account.text).toContain('<h3>What if I lose every method?</h3>');
      expectContactAfter(account.text, LOST_EVERYTHING);
    }
    // The recovery-codes page, as it is shown once when the app is turned on.
    const provision = await b.get(ROUTES.totpProvision);
    const secret = /aria-label="Secret key">([A-Z2-7 ]+)</.exec(provision.text)![1]!.replace(/ /g, '');
    const confirmed = await b.post(ROUTES.totpProvision, { [FIELDS.totpValue]: codeFor(secret) });
    expect(confirmed.status).toBe(303);
    const codes = await b.get(confirmed.location!);
    expect(codes.status).toBe(200);
    expect(codes.text).toContain('<h1>Save your recovery codes</h1>');
    expectContactAfter(codes.text, LOST_EVERYTHING);
    const account = await b.get(ROUTES.manageAccount);
    expectContactAfter(account.text, LOST_EVERYTHING);
  });

  it("with the year's app codes spent, the page says so once, with the way to reach the administrators", async () => {
    const { b, url, username } = await totpAccountAtSecondStep(server);
    const user = await server.services.accounts.findByUsername(username);
    const now = Date.now();
    const budget = server.services.config.rateLimits.totpGuessesPerYear.max;
    await server.services.db
      .insertInto('totp_guesses')
      .values(Array.from({ length: budget }, (_, i) => ({ user_id: user!.id, guessed_at: now - (i + 1) * 1000 })))
      .execute();
    const arrival = await b.get(url);
    expect(arrival.status).toBe(200);
    // And a code sent anyway (a page opened before): refused, the same page.
    const refused = await b.post(url, { [FIELDS.totpValue]: '123456' });
    expect(refused.status).toBe(429);
    for (const page of [arrival, refused]) {
      expect(page.text).not.toContain(`name="${FIELDS.totpValue}"`);
      // Said once: a code sent anyway was refused with it (the error summary), and the app's part did not repeat it.
      expect(page.text.split(APP_REFUSED)).toHaveLength(2);
      // An app-only account: a recovery code, not a security key it never had.
      expect(page.text).toContain('Use a recovery code if you have one left, then change your password.');
      expect(page.text).toContain('Log in with a recovery code</a> instead.');
      // Without either, the way to the administrators is right below, with the contact: the message no longer says it contactless.
      expect(page.text).not.toContain('can help if you have neither');
      expectContact(page.text);
    }
  });
});
