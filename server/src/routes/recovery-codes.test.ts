import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import { NO_ORIGIN } from '../services/events.js';
import { TestBrowser } from '../testing/browser.js';
import { holdTransaction, untilSomeoneWaitsOnALock } from '../testing/held-transaction.js';
import { codesOnPage, enableTotpThrough, registerThrough, totpAccountAtSecondStep, useTestServer } from '../testing/http-harness.js';
import { DIALECTS } from '../testing/service-harness.js';
import { RECOVERY_CODE_ROUTES } from '../views/recovery-code-routes.js';

describe.each(DIALECTS)('recovery codes: show once, then the burn step, on %s', (dialect) => {
  let server: RunningServer;
  useTestServer(dialect, (started) => {
    server = started;
  });

  const userOf = async (username: string) => (await server.services.accounts.findByUsername(username))!;

  /** A user with TOTP on asks for a new set of codes from the account page: the answer leads to its one showing. */
  async function generateNewCodes() {
    const b = new TestBrowser(server.url);
    const { username } = await registerThrough(b, server);
    await enableTotpThrough(b);
    await b.get(ROUTES.manageAccount);
    return { b, username, generated: await b.post(ROUTES.recoveryCodesGenerate, { confirm: 'on' }) };
  }

  it('generating is POST → 303 → GET; a reload never regenerates and never shows the set again', async () => {
    const { b, username, generated } = await generateNewCodes();
    expect(generated.status).toBe(303);
    expect(generated.location).toMatch(/^\/manage\/account\/recovery-codes\/\?show=/);
    const shown = await b.get(generated.location!);
    expect(shown.status).toBe(200);
    const codes = codesOnPage(shown.text);
    expect(codes).toHaveLength(8);
    expect(shown.text).toContain(`href="${RECOVERY_CODE_ROUTES.verify}"`);
    // The printout and the file say which site and when (a drawer of codes from several sites, or sets, told apart).
    const { origin } = server.services.config;
    const day = new Date(server.services.now()).toISOString().slice(0, 10);
    const host = new URL(origin).host.replace(/[^A-Za-z0-9.-]/g, '-');
    expect(shown.text).toContain(`download="latchkey-recovery-codes-${host}-${day}.txt"`);
    expect(shown.text).toMatch(
      new RegExp(`For <strong><bdi>${username}</bdi></strong> on <strong>${origin.replace(/[.]/g, '\\.')}</strong>, generated ${day}`),
    );
    const file = decodeURIComponent(/href="data:text\/plain;charset=utf-8,([^"]+)"/.exec(shown.text)![1]!);
    expect(file).toContain(`Latchkey recovery codes for ${username} on ${origin}`);
    expect(file).toContain(`Generated ${day}.`);

    const reload = await b.get(generated.location!);
    expect(reload.status).toBe(404);
    expect(codesOnPage(reload.text)).toHaveLength(0);
    expect(reload.text).toContain('Confirm a saved code');
    // The set shown is still the live one: the reload generated nothing.
    const user = await userOf(username);
    expect(await server.services.recoveryCodes.check(user.id, codes[0]!)).toBe('ok');
  });

  it('a cross-site navigation or a link without the nonce cannot use up the one showing', async () => {
    const { b, generated } = await generateNewCodes();
    const crossSite = await b.get(generated.location!, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect(codesOnPage(crossSite.text)).toHaveLength(0);
    const sameSite = await b.get(generated.location!, { 'sec-fetch-site': 'same-site' });
    expect(sameSite.status).toBe(403);
    const noNonce = await b.get(RECOVERY_CODE_ROUTES.show);
    expect(noNonce.status).toBe(403);
    const forged = await b.get(`${RECOVERY_CODE_ROUTES.show}?show=AAAAAAAAAAAAAAAAAAAAAA`);
    expect(forged.status).toBe(403);
    const repeated = await b.get(`${generated.location!}&show=x`);
    expect(repeated.status).toBe(403);
    // After all of that the owner still gets the one showing.
    const owner = await b.get(generated.location!, { 'sec-fetch-site': 'same-origin' });
    expect(owner.status).toBe(200);
    expect(codesOnPage(owner.text)).toHaveLength(8);
  });

  it('a HEAD request for the show URL does not use up the one showing', async () => {
    const { b, generated } = await generateNewCodes();
    const head = await b.request('HEAD', generated.location!, undefined, {});
    expect(head.status).toBe(200);
    expect(head.headers.get('cache-control')).toBe('no-store');
    const owner = await b.get(generated.location!);
    expect(owner.status).toBe(200);
    expect(codesOnPage(owner.text)).toHaveLength(8);
  });

  it('the account page says "unconfirmed" until one code of the set is typed back; that code is burned', async () => {
    const b = new TestBrowser(server.url);
    const { username } = await registerThrough(b, server);
    const { codes } = await enableTotpThrough(b);
    const before = await b.get(ROUTES.manageAccount);
    expect(before.text).toContain('Your recovery codes are unconfirmed.');

    const page = await b.get(RECOVERY_CODE_ROUTES.verify);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`name="${FIELDS.recoveryCodeValue}"`);

    const empty = await b.post(RECOVERY_CODE_ROUTES.verify, {});
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('aria-invalid="true"');
    const malformed = await b.post(RECOVERY_CODE_ROUTES.verify, { [FIELDS.recoveryCodeValue]: '123456' });
    expect(malformed.status).toBe(400);
    expect(malformed.text).toContain('16 characters');
    const wrong = await b.post(RECOVERY_CODE_ROUTES.verify, { [FIELDS.recoveryCodeValue]: '0123456789abcdef' });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('not one of your current recovery codes');

    const right = await b.post(RECOVERY_CODE_ROUTES.verify, { [FIELDS.recoveryCodeValue]: codes[3]!.toUpperCase().replace(/(.{4})/g, '$1-') });
    expect(right.status).toBe(303);
    expect(right.location).toBe(ROUTES.manageAccount);
    const after = await b.get(ROUTES.manageAccount);
    expect(after.text).toContain('Recovery codes confirmed.');
    expect(after.text).not.toContain('Your recovery codes are unconfirmed.');
    expect(after.text).toContain('<strong>7</strong> of 8');
    expect(after.text).toContain('Recovery codes confirmed as saved');

    const user = await userOf(username);
    expect(await server.services.recoveryCodes.check(user.id, codes[3]!)).toBe('used');
    expect((await b.get(RECOVERY_CODE_ROUTES.verify)).status).toBe(409);
    expect((await b.post(RECOVERY_CODE_ROUTES.verify, { [FIELDS.recoveryCodeValue]: codes[4]! })).status).toBe(409);
    expect(await server.services.recoveryCodes.check(user.id, codes[4]!)).toBe('ok');

    // A new set is unconfirmed again, and a code of the old set does not confirm it.
    await b.post(ROUTES.recoveryCodesGenerate, { confirm: 'on' });
    expect((await b.get(ROUTES.manageAccount)).text).toContain('Your recovery codes are unconfirmed.');
    const old = await b.post(RECOVERY_CODE_ROUTES.verify, { [FIELDS.recoveryCodeValue]: codes[4]! });
    expect(old.status).toBe(400);
  });

  it('a code of the set used at login counts as the confirmation: the burn step never spends another (not the last one either)', async () => {
    const { b, username, url, recoveryCodes: codes } = await totpAccountAtSecondStep(server);
    const login = await b.post(url.replace(ROUTES.twoFactor, ROUTES.recoveryCode), { [FIELDS.recoveryCodeValue]: codes[0]! });
    expect(login.status).toBe(303);
    const account = await b.get(ROUTES.manageAccount);
    expect(account.text).not.toContain('Your recovery codes are unconfirmed.');
    expect((await b.get(RECOVERY_CODE_ROUTES.verify)).status).toBe(409);
    // Down to the last code, still never confirmed on the burn step: that code is not spent on a confirmation.
    const user = await userOf(username);
    for (const code of codes.slice(1, 7)) expect(await server.services.recoveryCodes.use(user.id, code)).toBe('ok');
    expect(await server.services.recoveryCodes.remaining(user.id)).toBe(1);
    const last = await b.post(RECOVERY_CODE_ROUTES.verify, { [FIELDS.recoveryCodeValue]: codes[7]! });
    expect(last.status).toBe(409);
    expect(await server.services.recoveryCodes.check(user.id, codes[7]!)).toBe('ok');
  });

  it('with every code used, the account page says none are left and that nothing stops working, truthfully', async () => {
    const b = new TestBrowser(server.url);
    const { username } = await registerThrough(b, server);
    const { codes } = await enableTotpThrough(b);
    const user = await userOf(username);
    for (const code of codes.slice(0, 7)) expect(await server.services.recoveryCodes.use(user.id, code)).toBe('ok');
    const one = await b.get(ROUTES.manageAccount);
    expect(one.text).toContain('<strong>1</strong> of 8 recovery codes left. Generate a new set soon.');
    expect(one.text).toContain('Your current codes stop working as soon as new ones are generated.');
    expect(await server.services.recoveryCodes.use(user.id, codes[7]!)).toBe('ok');
    const none = await b.get(ROUTES.manageAccount);
    expect(none.text).toContain('<strong>You have no recovery codes left.</strong> Generate a new set now.');
    expect(none.text).not.toContain('of 8 recovery codes left');
    expect(none.text).not.toContain('stop working');
    expect(none.text).not.toContain('id="recovery-codes-confirm"');
  });

  it('the two-factor page offers "Log in with a recovery code" only to an account that has one left', async () => {
    const withCodes = await totpAccountAtSecondStep(server);
    expect((await withCodes.b.get(withCodes.url)).text).toContain(
      `href="${withCodes.url.replace(ROUTES.twoFactor, ROUTES.recoveryCode).replace(/&/g, '&amp;')}"`,
    );
    const { b, url } = await totpAccountAtSecondStep(server, {
      beforePassword: async (username) => {
        const user = await userOf(username);
        await server.services.recoveryCodes.clear(user.id);
      },
    });
    const page = await b.get(url);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(`href="${ROUTES.recoveryCode}`);
    expect(page.text).not.toContain('Log in with a recovery code');
    expect(page.text).toContain('You have no recovery codes left.');
  });

  it('the last factor removed while a new set is being made: 2FA ends off with no codes (the set is rolled back)', async () => {
    const b = new TestBrowser(server.url);
    const { username } = await registerThrough(b, server);
    await enableTotpThrough(b);
    const user = await userOf(username);
    // Another tab removes the app: its transaction holds the user's row while the new set is asked for.
    const removal = await holdTransaction(server.services.db, async (trx) => {
      expect(await server.services.boundTo(trx).totp.disable(user.id, NO_ORIGIN, { lastFactorConfirmed: true })).toBe(true);
    });
    const generating = b.post(ROUTES.recoveryCodesGenerate, { confirm: 'on' });
    await untilSomeoneWaitsOnALock(server.services.db, dialect);
    await removal.release();
    const answer = await generating;
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('Turn on two-factor authentication first');
    expect((await server.services.accounts.twoFactorStatus(user.id)).enabled).toBe(false);
    expect(await server.services.recoveryCodes.remaining(user.id)).toBe(0);
  });

  it('needs a login, and has nothing to confirm without 2FA', async () => {
    const anonymous = new TestBrowser(server.url);
    expect((await anonymous.get(RECOVERY_CODE_ROUTES.verify)).status).toBe(303);
    expect((await anonymous.get(RECOVERY_CODE_ROUTES.show)).status).toBe(303);
    const b = new TestBrowser(server.url);
    await registerThrough(b, server);
    expect((await b.get(RECOVERY_CODE_ROUTES.verify)).status).toBe(409);
    // Nothing pending: the "shown only once" page, whatever the query says.
    expect((await b.get(RECOVERY_CODE_ROUTES.show)).status).toBe(404);
  });
});
