import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { SupportContact } from '../config.js';
import type { RunningServer } from '../main.js';
import { TestBrowser } from '../testing/browser.js';
import { enableTotpThrough, PASSWORD, registerThrough, useTestServer } from '../testing/http-harness.js';

/**
 * LATCHKEY_SUPPORT_CONTACT on the pages where someone who lost every factor and code finds out: the second
 * step (also once it is locked) and the recovery-code page. The servers share one process, so one render
 * cache (views/render.ts): each must still show its own contact, or none.
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

describe.each(CONTACTS)('the second-step pages with the support contact %s', (_name, supportContact) => {
  let server: RunningServer;
  useTestServer(
    'sqlite',
    (started) => {
      server = started;
    },
    supportContact ? { supportContact } : {},
  );

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

  /** A fresh account with TOTP, logged out, its password just accepted: returns the browser and the second-step URL. */
  async function atSecondStep() {
    const b = new TestBrowser(server.url);
    const { username } = await registerThrough(b, server);
    await enableTotpThrough(b);
    await b.get(ROUTES.manageAccount);
    expect((await b.post(ROUTES.logout)).status).toBe(303);
    await b.get(ROUTES.login);
    const answer = await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
    expect(answer.location).toMatch(/^\/account\/two-factor\/\?token=/);
    return { b, url: answer.location! };
  }

  it('the two-factor and recovery-code pages say how to reach the administrators', async () => {
    const { b, url } = await atSecondStep();
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
    const { b, url } = await atSecondStep();
    await b.get(url);
    let answer = await b.post(url, { [FIELDS.totpValue]: '000000' });
    for (let tries = 1; answer.status !== 429 && tries < 10; tries++) answer = await b.post(url, { [FIELDS.totpValue]: '000000' });
    expect(answer.status).toBe(429);
    expect(answer.text).toMatch(/Too many/);
    expect(answer.text).toContain('Recovery codes are paused too until then.');
    expect(answer.text).not.toContain('Log in with a recovery code</a>');
    expectContact(answer.text);
    const recovery = await b.get(url.replace(ROUTES.twoFactor, ROUTES.recoveryCode));
    expect(recovery.text).toMatch(/Too many/);
    expectContact(recovery.text);
  });
});
