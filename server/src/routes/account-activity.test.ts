import { describe, expect, it } from 'vitest';
import { FIELDS, isolate, ROUTES } from '@latchkey/shared';
import { softAuthenticator } from '@latchkey/test/soft-authenticator';
import type { RunningServer } from '../main.js';
import { EVENT_TAGS, NO_ORIGIN } from '../services/events.js';
import { type PageResponse, TestBrowser } from '../testing/browser.js';
import { expireReauthWindow } from '../testing/expire-reauth-window.js';
import {
  enableTotpThrough,
  FIREFOX_128_WINDOWS as FIREFOX,
  firefoxBrowserFrom,
  PASSWORD,
  registerIn,
  registerThrough,
  useTestServer,
} from '../testing/http-harness.js';
import { DIALECTS } from '../testing/service-harness.js';
import { ACCOUNT_ROUTES } from '../views/account-page.js';
import { formatTime } from '../views/layout.js';
import { PASSWORD_ROUTES } from '../views/password-routes.js';
import { END_FIELDS, END_ROUTES } from '../views/session-list.js';
import { reauthHint } from '../views/reauth-hint.js';
import { HISTORY_ROUTE } from '../views/security-history.js';
import { KEY_RENAME } from '../views/webauthn-provision-page.js';

// Issue 17 item 11 over HTTP: sessions and remembered devices on the account page, each ended on its
// own (CSRF, password when not recent, an event); keys renamed; the history paged.
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1';

describe.each(DIALECTS)('account activity routes on %s', (dialect) => {
  let server: RunningServer;
  useTestServer(dialect, (started) => {
    server = started;
  });

  /** A browser whose requests carry `userAgent`. */
  const browserAs = (userAgent: string) => {
    const b = new TestBrowser(server.url);
    const request = b.request.bind(b);
    b.request = (method, path, body, headers) => request(method, path, body, { 'user-agent': userAgent, ...headers });
    return b;
  };

  async function register(b: TestBrowser) {
    return (await server.services.accounts.findByUsername(await registerIn(b)))!;
  }

  async function logIn(b: TestBrowser, username: string) {
    await b.get(ROUTES.login);
    return b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
  }

  const sessionIdsIn = (html: string) => [...html.matchAll(new RegExp(`name="${END_FIELDS.session}" value="([^"]+)"`, 'g'))].map((match) => match[1]);
  const tagsOf = async (userId: string) => (await server.services.events.list(userId)).map((event) => event.tag);
  const makeStale = (userId: string) => expireReauthWindow(server.services.db, userId);

  it('lists every session with its parsed browser; another one ends on its own, this one only by Log out', async () => {
    const laptop = browserAs(FIREFOX);
    const user = await register(laptop);
    const phone = browserAs(PHONE);
    expect((await logIn(phone, user.username)).location).toBe(ROUTES.manageAccount);

    const page = await laptop.get(ROUTES.manageAccount);
    expect(page.text).toContain('Firefox 128 on Windows');
    expect(page.text).toContain('Safari 17 on iPhone');
    expect(page.text).not.toContain('Gecko/20100101'); // no raw user-agent dump
    expect(page.text).toContain('This is the session you are using now: use Log out to end it.');
    expect(page.text).toMatch(/href="\/manage\/account\/history\/\?page=1#event-\d+"/);
    const endable = sessionIdsIn(page.text);
    expect(endable).toHaveLength(1); // the phone's; not this browser's own
    const sessions = await server.services.sessions.listForUser(user.id);
    const own = sessions.find((session) => session.user_agent === FIREFOX)!;
    expect(endable[0]).toBe(sessions.find((session) => session.user_agent === PHONE)!.id);

    const refused = await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: own.id });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('use Log out to end it');
    expect((await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: endable[0]! }, { csrf: false })).status).toBe(403);
    expect((await phone.get(ROUTES.manageAccount)).status).toBe(200);

    const ended = await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: endable[0]! });
    expect(ended.status).toBe(303);
    expect(ended.location).toBe(ROUTES.manageAccount);
    expect((await laptop.get(ROUTES.manageAccount)).text).toMatch(/The session of Safari 17 on iPhone from \S+ was ended\./);
    expect((await phone.get(ROUTES.manageAccount)).status).toBe(303); // logged out
    const [event] = await server.services.events.list(user.id);
    expect(event).toMatchObject({ tag: EVENT_TAGS.sessionEnded, details: { userAgent: PHONE } });
    expect((await laptop.get(ROUTES.manageAccount)).text).toContain('Session of Safari 17 on iPhone ended');
  });

  it('asks for the password when the last proof is over 5 minutes old, and refuses a wrong one', async () => {
    const laptop = browserAs(FIREFOX);
    const user = await register(laptop);
    const phone = browserAs(PHONE);
    await logIn(phone, user.username);
    await makeStale(user.id);
    const target = sessionIdsIn((await laptop.get(ROUTES.manageAccount)).text)[0]!;

    const ask = await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: target });
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('<h1>End this session?</h1>');
    expect(ask.text).not.toContain('aria-invalid');
    const wrong = await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: target, [END_FIELDS.confirm]: '1', [FIELDS.password]: 'not my password' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('That password is not correct.');
    expect(wrong.text).toContain('aria-invalid="true"');
    const empty = await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: target, [END_FIELDS.confirm]: '1' });
    expect(empty.status).toBe(400);
    expect((await phone.get(ROUTES.manageAccount)).status).toBe(200);
    expect(await tagsOf(user.id)).not.toContain(EVENT_TAGS.sessionEnded);
    expect(await tagsOf(user.id)).toContain(EVENT_TAGS.reauthenticateFailure);

    const right = await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: target, [END_FIELDS.confirm]: '1', [FIELDS.password]: PASSWORD });
    expect(right.status).toBe(303);
    expect((await phone.get(ROUTES.manageAccount)).status).toBe(303);
  });

  it('refuses a malformed or someone else’s session id without ending anything', async () => {
    const a = browserAs(FIREFOX);
    await register(a);
    const b = browserAs(PHONE);
    const other = await register(b);
    await a.get(ROUTES.manageAccount);
    const theirs = (await server.services.sessions.listForUser(other.id))[0]!.id;
    const foreign = await a.post(END_ROUTES.endSession, { [END_FIELDS.session]: theirs });
    expect(foreign.status).toBe(303);
    expect((await a.get(ROUTES.manageAccount)).text).toContain('That session had already ended.');
    expect((await b.get(ROUTES.manageAccount)).status).toBe(200);
    const missing = await a.post(END_ROUTES.endSession, {});
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('Choose which session to end.');
    expect((await a.post(END_ROUTES.endSession, { [END_FIELDS.session]: 'x'.repeat(100) })).status).toBe(400);
  });

  it('lists remembered devices; forgetting one makes that browser use its second factor again, the others not', async () => {
    const setup = browserAs(FIREFOX);
    const user = await register(setup);
    await server.services.totp.enable(user.id, server.services.totp.generateSecret());
    const fresh = (await server.services.accounts.findById(user.id))!;
    const laptopCookie = await server.services.rememberedDevices.issue(fresh, { ip: '127.0.0.1', userAgent: FIREFOX });
    const phoneCookie = await server.services.rememberedDevices.issue(fresh, { ip: '127.0.0.1', userAgent: PHONE });
    const laptop = browserAs(FIREFOX);
    laptop.cookies.set('latchkey_device', laptopCookie);
    expect((await logIn(laptop, user.username)).location).toBe(ROUTES.manageAccount); // remembered: no second step

    const page = await laptop.get(ROUTES.manageAccount);
    const devices = [...page.text.matchAll(new RegExp(`name="${END_FIELDS.device}" value="([^"]+)"`, 'g'))].map((match) => match[1]!);
    expect(devices).toHaveLength(2);
    expect(page.text).toContain('Safari 17 on iPhone');
    const phoneDevice = (await server.services.rememberedDevices.list(fresh)).find((device) => device.userAgent === PHONE)!;
    const forgotten = await laptop.post(END_ROUTES.forgetDevice, { [END_FIELDS.device]: phoneDevice.id });
    expect(forgotten.status).toBe(303);
    expect((await laptop.get(ROUTES.manageAccount)).text).toContain('Safari 17 on iPhone from 127.0.0.1 is no longer remembered');
    expect(await tagsOf(user.id)).toContain(EVENT_TAGS.deviceForgotten);

    const phone = browserAs(PHONE);
    phone.cookies.set('latchkey_device', phoneCookie);
    expect((await logIn(phone, user.username)).location).toMatch(/^\/account\/two-factor\/\?token=/);
    const again = browserAs(FIREFOX);
    again.cookies.set('latchkey_device', laptopCookie);
    expect((await logIn(again, user.username)).location).toBe(ROUTES.manageAccount);
  });

  it('forgetting a device needs the password when not recent', async () => {
    const b = browserAs(FIREFOX);
    const user = await register(b);
    await server.services.rememberedDevices.issue(user, { ip: null, userAgent: PHONE });
    const [device] = await server.services.rememberedDevices.list(user);
    await makeStale(user.id);
    await b.get(ROUTES.manageAccount);
    const ask = await b.post(END_ROUTES.forgetDevice, { [END_FIELDS.device]: device!.id });
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('<h1>Forget this device?</h1>');
    expect(await server.services.rememberedDevices.list(user)).toHaveLength(1);
    expect((await b.post(END_ROUTES.forgetDevice, { [END_FIELDS.device]: device!.id, [END_FIELDS.confirm]: '1', [FIELDS.password]: PASSWORD })).status).toBe(
      303,
    );
    expect(await server.services.rememberedDevices.list(user)).toHaveLength(0);
  });

  it('forgetting all devices: only offered when one is remembered, needs the password when not recent, then forgets them all with one event', async () => {
    const b = browserAs(FIREFOX);
    const user = await register(b);
    const before = (await tagsOf(user.id)).length;
    expect((await b.get(ROUTES.manageAccount)).text).not.toContain(`action="${ACCOUNT_ROUTES.forgetDevices}"`);
    // Nothing remembered: nothing happens, nothing is recorded (the button cannot fill the history).
    expect((await b.post(ACCOUNT_ROUTES.forgetDevices)).status).toBe(303);
    expect((await b.get(ROUTES.manageAccount)).text).toContain('No device was remembered: there was nothing to forget.');
    expect(await tagsOf(user.id)).toHaveLength(before);

    await server.services.rememberedDevices.issue(user, { ip: null, userAgent: PHONE });
    await server.services.rememberedDevices.issue(user, { ip: null, userAgent: FIREFOX });
    expect((await b.get(ROUTES.manageAccount)).text).toContain(`action="${ACCOUNT_ROUTES.forgetDevices}"`);
    await makeStale(user.id);
    const ask = await b.post(ACCOUNT_ROUTES.forgetDevices);
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('<h1>Forget all remembered devices?</h1>');
    const wrong = await b.post(ACCOUNT_ROUTES.forgetDevices, { [END_FIELDS.confirm]: '1', [FIELDS.password]: 'not the password' });
    expect(wrong.status).toBeGreaterThanOrEqual(400);
    expect(await server.services.rememberedDevices.list(user)).toHaveLength(2);
    expect(await tagsOf(user.id)).not.toContain(EVENT_TAGS.rememberedDevicesForgotten);

    expect((await b.post(ACCOUNT_ROUTES.forgetDevices, { [END_FIELDS.confirm]: '1', [FIELDS.password]: PASSWORD })).status).toBe(303);
    expect(await server.services.rememberedDevices.list((await server.services.accounts.findByUsername(user.username))!)).toHaveLength(0);
    expect((await tagsOf(user.id)).filter((tag) => tag === EVENT_TAGS.rememberedDevicesForgotten)).toHaveLength(1);
    // Again: nothing left to forget, no second event.
    expect((await b.post(ACCOUNT_ROUTES.forgetDevices)).status).toBe(303);
    expect((await tagsOf(user.id)).filter((tag) => tag === EVENT_TAGS.rememberedDevicesForgotten)).toHaveLength(1);
  });

  it("downloads the account's data with the whole history and no secret, records it, and needs the form token", async () => {
    const b = browserAs(FIREFOX);
    const user = await register(b);
    const secret = server.services.totp.generateSecret();
    await server.services.totp.enable(user.id, secret);
    // Turning on 2FA moved the security epoch: the device is remembered under the new one.
    await server.services.rememberedDevices.issue((await server.services.accounts.findById(user.id))!, { ip: '203.0.113.9', userAgent: PHONE });
    for (let i = 0; i < 35; i++) await server.services.events.record({ userId: user.id, tag: EVENT_TAGS.loginFailure, origin: NO_ORIGIN });
    const events = await server.services.events.count(user.id);
    expect(events).toBeGreaterThan(30); // more than the account page shows

    await b.get(ROUTES.manageAccount);
    expect((await b.post(ACCOUNT_ROUTES.downloadData, {}, { csrf: 'forged' })).status).toBe(403);
    const download = await b.post(ACCOUNT_ROUTES.downloadData);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toMatch(/^application\/json/);
    expect(download.headers.get('content-disposition')).toMatch(
      new RegExp(`^attachment; filename="latchkey-account-${user.username}-\\d{4}-\\d\\d-\\d\\d\\.json"$`),
    );
    expect(download.headers.get('cache-control')).toBe('no-store');
    const data = JSON.parse(download.text);
    expect(data).toMatchObject({
      format: 'latchkey-account-data',
      version: 1,
      account: { username: user.username },
      emailAddresses: [{ email: user.email, primary: true, verifiedAt: null }],
      twoFactor: { authenticationApp: { enabledAt: expect.any(String) }, securityKeys: [], recoveryCodesLeft: 0 },
      sessions: [{ userAgent: FIREFOX }],
      rememberedDevices: [{ userAgent: PHONE }],
    });
    // Every event, and first the download itself (recorded as it begins).
    expect(data.securityHistory).toHaveLength(events + 1);
    expect(data.securityHistory[0]).toMatchObject({ event: EVENT_TAGS.dataExported });
    expect(data.securityHistory.at(-1)).toMatchObject({ event: EVENT_TAGS.accountCreated, description: 'Account created' });
    // Nothing that is, or stands for, a secret.
    const stored = (await server.services.accounts.findById(user.id))!;
    for (const secretThing of [secret, stored.password_hash, stored.totp_secret_enc!, PASSWORD, b.cookies.get('latchkey_session')!]) {
      expect(download.text).not.toContain(secretThing);
    }
    expect(download.text).not.toMatch(/argon2|password_hash|secret/i);
    expect(await tagsOf(user.id)).toContain(EVENT_TAGS.dataExported);
    expect((await b.get(ROUTES.manageAccount)).text).toContain('Account data downloaded');
  });

  /** What a refused download answers: the account page (HTML), never the file. */
  const expectNoFile = (response: PageResponse) => {
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-disposition')).toBeNull();
    expect(response.text).toContain('<h1>Account security</h1>');
    expect(response.text).not.toContain('latchkey-account-data');
  };
  const DOWNLOAD_FIELD = 'download-data-password';
  const expectFile = (response: PageResponse) => {
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="latchkey-account-/);
    return JSON.parse(response.text) as { securityHistory: Array<{ event: string }> };
  };
  const countOf = async (userId: string, tag: string) => (await tagsOf(userId)).filter((each) => each === tag).length;

  // ASVS V3.7.1: the file names every address and browser that used the account, so a session whose
  // login is over 5 minutes old must give the password first, as for the account page's other actions.
  it('downloading the data asks for the password past the 5-minute window: none or a wrong one gets the account page back, no file; the right one the file', async () => {
    const b = browserAs(FIREFOX);
    const user = await register(b);

    // Inside the window: no field, and the file at once (as before).
    expect((await b.get(ROUTES.manageAccount)).text).not.toContain(`id="${DOWNLOAD_FIELD}"`);
    expectFile(await b.post(ACCOUNT_ROUTES.downloadData));
    expect(await countOf(user.id, EVENT_TAGS.dataExported)).toBe(1);

    await makeStale(user.id);
    const asked = await b.get(ROUTES.manageAccount);
    expect(asked.text).toMatch(
      new RegExp(
        `<input id="${DOWNLOAD_FIELD}" name="password" type="password" autocomplete="current-password" required aria-describedby="${DOWNLOAD_FIELD}-hint"`,
      ),
    );
    expect(asked.text).toContain(`<p class="hint" id="${DOWNLOAD_FIELD}-hint">${reauthHint('downloading your data')}</p>`);

    const refusals: [Record<string, string>, number, string][] = [
      [{}, 400, 'Enter your password to confirm.'],
      [{ [FIELDS.password]: 'not my password' }, 401, 'That password is not correct.'],
    ];
    for (const [password, status, message] of refusals) {
      const refused = await b.post(ACCOUNT_ROUTES.downloadData, password);
      expect(refused.status).toBe(status);
      expectNoFile(refused);
      // The message next to the field, which alone has the focus, and in the summary at the top.
      expect(refused.text).toMatch(
        new RegExp(
          `<input id="${DOWNLOAD_FIELD}" name="password" type="password"[^>]*autofocus[^>]*aria-invalid="true" aria-describedby="${DOWNLOAD_FIELD}-hint ${DOWNLOAD_FIELD}-error"`,
        ),
      );
      expect(refused.text.match(/autofocus/g)).toHaveLength(1);
      expect(refused.text).toContain(`<p class="field-error" id="${DOWNLOAD_FIELD}-error">${message}</p>`);
      expect(refused.text).toMatch(new RegExp(`role="alert"[^>]*><p>${message}</p>`));
    }
    // The wrong password is recorded as every failed re-authentication is; no download began.
    expect(await countOf(user.id, EVENT_TAGS.reauthenticateFailure)).toBe(1);
    expect(await countOf(user.id, EVENT_TAGS.dataExported)).toBe(1);

    const data = expectFile(await b.post(ACCOUNT_ROUTES.downloadData, { [FIELDS.password]: PASSWORD }));
    expect(data.securityHistory.slice(0, 2).map((event) => event.event)).toEqual([EVENT_TAGS.dataExported, EVENT_TAGS.reauthenticateFailure]);
    // The right password reopened the window, as it does for the other actions: no field, no password.
    expect((await b.get(ROUTES.manageAccount)).text).not.toContain(`id="${DOWNLOAD_FIELD}"`);
    expectFile(await b.post(ACCOUNT_ROUTES.downloadData));
    expect(await countOf(user.id, EVENT_TAGS.dataExported)).toBe(3);
  });

  it("counts a wrong password for the download with the session's other re-authentications: once they are spent even the right one gets 429 and no file", async () => {
    const laptop = browserAs(FIREFOX);
    const user = await register(laptop);
    await makeStale(user.id);
    await laptop.get(ROUTES.manageAccount);
    const wrong = { [FIELDS.password]: 'not my password' };
    for (let i = 0; i < 9; i++) expect((await laptop.post(ACCOUNT_ROUTES.downloadData, wrong)).status).toBe(401);
    // The tenth, on another action of the account page, draws on the same per-session count.
    // It starts the pause, and says so at once (not one try later).
    const tenth = await laptop.post(ROUTES.revokeSessions, wrong);
    expect(tenth.status).toBe(429);
    expect(Number(tenth.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(tenth.text).toContain('That password is not correct. Too many failed attempts.');
    const locked = await laptop.post(ACCOUNT_ROUTES.downloadData, { [FIELDS.password]: PASSWORD });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expectNoFile(locked);
    expect(locked.text).toContain(`<p class="field-error" id="${DOWNLOAD_FIELD}-error">Too many failed attempts.`);
    expect(await countOf(user.id, EVENT_TAGS.reauthenticateFailure)).toBe(10);
    const lockout = (await server.services.events.list(user.id)).find((event) => event.tag === EVENT_TAGS.lockout);
    expect(lockout?.details).toEqual({ step: 'reauthenticate' });
    expect(await countOf(user.id, EVENT_TAGS.dataExported)).toBe(0);
    // Per session: the owner's fresh login elsewhere still downloads.
    const phone = browserAs(PHONE);
    await logIn(phone, user.username);
    await phone.get(ROUTES.manageAccount);
    expectFile(await phone.post(ACCOUNT_ROUTES.downloadData));
  });

  it('pages the security history past the newest 30 events', async () => {
    const b = browserAs(FIREFOX);
    const user = await register(b);
    expect((await b.get(ROUTES.manageAccount)).text).not.toContain('Older events');
    for (let i = 0; i < 40; i++) await server.services.events.record({ userId: user.id, tag: EVENT_TAGS.loginFailure, origin: NO_ORIGIN });
    expect((await b.get(ROUTES.manageAccount)).text).toContain(`href="${HISTORY_ROUTE}?page=2">Older events`);
    const second = await b.get(`${HISTORY_ROUTE}?page=2`);
    expect(second.status).toBe(200);
    expect(second.text).toContain('Page 2 of 2');
    expect(second.text).toContain('aria-current="page"');
    expect(second.text).toContain('<nav class="pagination" aria-label="Security history pages">');
    expect(second.text).toContain('Account created');
    expect((second.text.match(/<tr id="event-/g) ?? []).length).toBe(11);
    for (const past of ['3', '1000000', '99999999', '9'.repeat(400)]) expect((await b.get(`${HISTORY_ROUTE}?page=${past}`)).status, past).toBe(404);
    for (const bad of ['0', 'abc', '-1', '1e3', '2.0', ' 2']) expect((await b.get(`${HISTORY_ROUTE}?page=${bad}`)).status, bad).toBe(400);
    expect((await new TestBrowser(server.url).get(HISTORY_ROUTE)).status).toBe(303); // logged out: to the login page
  });

  it('renames a security key, refusing a name already taken', async () => {
    const b = browserAs(FIREFOX);
    const user = await register(b);
    for (const label of ['Blue key', 'Spare key']) {
      const options = await server.services.webauthn.registrationOptions(user, label);
      await server.services.webauthn.register(
        user.id,
        softAuthenticator().createRegistrationResponse(options, { origin: server.services.config.origin }),
        label,
        NO_ORIGIN,
      );
    }
    await b.get(ROUTES.webauthnProvision);
    const taken = await b.post(KEY_RENAME.route, { [FIELDS.label]: 'Blue key', [KEY_RENAME.newLabelField]: 'SPARE key' });
    expect(taken.status).toBe(400);
    // Quoted as the existing key is named (the list says "Spare key"), not as typed.
    expect(taken.text).toContain(`You already have a security key named “${isolate('Spare key')}”`);
    // That key's rename form is open again with the name as typed, marked invalid and told why on its field; the others closed.
    const refusedForm = /<details class="details-plain" open(?:="")?>[\s\S]*?<\/details>/.exec(taken.text)?.[0] ?? '';
    expect(refusedForm).toContain('<input type="hidden" name="label" value="Blue key"/>');
    expect(refusedForm).toMatch(/value="SPARE key"[^>]*aria-invalid="true" aria-describedby="rename-key-0-error"/);
    expect(refusedForm).toMatch(/<p class="field-error" id="rename-key-0-error">You already have a security key named/);
    expect(taken.text.match(/<details class="details-plain" open/g)).toHaveLength(1);
    const empty = await b.post(KEY_RENAME.route, { [FIELDS.label]: 'Blue key', [KEY_RENAME.newLabelField]: '' });
    expect(empty.status).toBe(400);
    expect(empty.text).toMatch(/<p class="field-error" id="rename-key-0-error">Give the security key a name\.<\/p>/);
    const renamed = await b.post(KEY_RENAME.route, { [FIELDS.label]: 'Blue key', [KEY_RENAME.newLabelField]: 'Desk key' });
    expect(renamed.status).toBe(303);
    expect(renamed.location).toBe(ROUTES.webauthnProvision);
    const page = await b.get(ROUTES.webauthnProvision);
    expect(page.text).toContain(`Security key “${isolate('Blue key')}” renamed to “${isolate('Desk key')}”.`);
    expect((await server.services.webauthn.list(user.id)).map((key) => key.label)).toEqual(['Desk key', 'Spare key']);
    expect((await b.post(KEY_RENAME.route, { [FIELDS.label]: 'Desk key', [KEY_RENAME.newLabelField]: 'x' }, { csrf: false })).status).toBe(403);
  });
});

// Two sessions of the same browser type looked identical on the account page and on "End this session?",
// and a User-Agent is the client's to choose: each is now named with the address its login came from (the
// security history's record of it) and, on the confirmation page, when it started. Behind one trusted
// proxy, so each browser's address is its own (X-Forwarded-For), as in production behind a load balancer.
describe.each(DIALECTS)('sessions named by their login address on %s', (dialect) => {
  let server: RunningServer;
  useTestServer(
    dialect,
    (started) => {
      server = started;
    },
    { trustProxy: 1 },
  );

  const firefoxFrom = (ip: string) => firefoxBrowserFrom(server, ip);
  /** The account page's sessions card (up to the security history's). */
  const sessionsCard = (html: string) => html.slice(html.indexOf('id="sessions-heading"'), html.indexOf('id="history-heading"'));
  const items = (card: string) => card.split('<li').slice(1);

  it('lists each session with the address it logged in from; "End this session?" says it and when the session started', async () => {
    const laptop = firefoxFrom('203.0.113.7');
    const user = (await server.services.accounts.findByUsername(await registerIn(laptop)))!;
    const other = firefoxFrom('2001:db8::42');
    await other.get(ROUTES.login);
    expect((await other.post(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: PASSWORD })).location).toBe(ROUTES.manageAccount);

    const page = await laptop.get(ROUTES.manageAccount);
    const listed = items(sessionsCard(page.text));
    expect(listed).toHaveLength(2);
    // The same browser twice, told apart by the address, written as the security history writes it.
    expect(listed[0]).toContain('<strong>Firefox 128 on Windows</strong><span>from <span class="break-anywhere">203.0.113.7</span></span>');
    expect(listed[1]).toContain('<strong>Firefox 128 on Windows</strong><span>from <span class="break-anywhere">2001:db8::42</span></span>');
    expect(page.text.slice(page.text.indexOf('id="history-heading"'))).toContain('<span class="break-anywhere">2001:db8::42</span>');
    expect(listed[1]).toContain('End session<span class="visually-hidden"> of Firefox 128 on Windows from 2001:db8::42 started');

    const target = (await server.services.sessions.listForUser(user.id)).find((row) => row.login_ip === '2001:db8::42')!;
    await expireReauthWindow(server.services.db, user.id);
    const ask = await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: target.id });
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('<h1>End this session?</h1>');
    expect(ask.text).toContain(
      `The session of Firefox 128 on Windows from 2001:db8::42, started ${formatTime(target.created_at)}, will be logged out at its next request.`,
    );
    // Asked again after a wrong password: still named the same way.
    const wrong = await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: target.id, [END_FIELDS.confirm]: '1', [FIELDS.password]: 'not it' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain(`The session of Firefox 128 on Windows from 2001:db8::42, started ${formatTime(target.created_at)}`);
  });

  it('a session whose login event is gone, or recorded no address, says "address not recorded", never a blank', async () => {
    const laptop = firefoxFrom('203.0.113.7');
    const user = (await server.services.accounts.findByUsername(await registerIn(laptop)))!;
    const other = firefoxFrom('198.51.100.20');
    await other.get(ROUTES.login);
    await other.post(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: PASSWORD });
    const sessions = await server.services.sessions.listForUser(user.id);
    const own = sessions.find((row) => row.login_ip === '203.0.113.7')!;
    const target = sessions.find((row) => row.login_ip === '198.51.100.20')!;
    // This browser's login recorded no address; the other's login event is gone.
    await server.services.db.updateTable('events').set({ ip: null }).where('id', '=', own.event_id!).execute();
    await server.services.db.deleteFrom('events').where('id', '=', target.event_id!).execute();

    const listed = items(sessionsCard((await laptop.get(ROUTES.manageAccount)).text));
    expect(listed).toHaveLength(2);
    for (const item of listed) {
      expect(item).toContain('<strong>Firefox 128 on Windows</strong><span class="muted">address not recorded</span>');
      expect(item).not.toContain('break-anywhere');
    }
    await expireReauthWindow(server.services.db, user.id);
    const ask = await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: target.id });
    expect(ask.status).toBe(200);
    expect(ask.text).toContain(
      `The session of Firefox 128 on Windows (address not recorded), started ${formatTime(target.created_at)}, will be logged out at its next request.`,
    );
  });

  it('the card says that logging out everywhere does not stop someone who knows the password, with a link to change it', async () => {
    const laptop = firefoxFrom('203.0.113.7');
    await registerIn(laptop);
    const card = sessionsCard((await laptop.get(ROUTES.manageAccount)).text);
    expect(card).toContain(
      `Someone who knows your password can log in again: <a href="${PASSWORD_ROUTES.changePassword}">change your password</a> to stop them.`,
    );
    expect(card).toContain('Log out of all sessions');
  });
});

// Remembered devices had the same look-alike problem: two "Firefox 128 on Windows" devices could not be
// told apart on the account page or on "Forget this device?", and a User-Agent is the client's to choose.
// Each is now named with the address of the login that remembered it and, on the confirmation page, when
// it was remembered. Behind one trusted proxy, so each browser's address is its own (X-Forwarded-For).
describe.each(DIALECTS)('remembered devices named by their login address on %s', (dialect) => {
  let server: RunningServer;
  useTestServer(
    dialect,
    (started) => {
      server = started;
    },
    { trustProxy: 1 },
  );

  const firefoxFrom = (ip: string) => firefoxBrowserFrom(server, ip);
  /** The account page's remembered-devices card (up to the sessions card). */
  const devicesCard = (html: string) => html.slice(html.indexOf('id="devices-heading"'), html.indexOf('id="sessions-heading"'));
  const items = (card: string) => card.split('<li').slice(1);
  /** Logs `b` in with a recovery code and "Remember this device for 30 days" ticked. */
  const logInRemembered = async (b: TestBrowser, username: string, code: string) => {
    await b.get(ROUTES.login);
    const step = await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
    const recoveryUrl = step.location!.replace(ROUTES.twoFactor, ROUTES.recoveryCode);
    await b.get(recoveryUrl);
    expect((await b.post(recoveryUrl, { [FIELDS.recoveryCodeValue]: code, [FIELDS.rememberDevice]: 'on' })).location).toBe(ROUTES.manageAccount);
  };
  const makeStale = (userId: string) => expireReauthWindow(server.services.db, userId);

  it('lists each device with the address that remembered it; "Forget this device?" says it and when it was remembered', async () => {
    const laptop = firefoxFrom('203.0.113.7');
    const { username } = await registerThrough(laptop, server);
    const { codes } = await enableTotpThrough(laptop);
    await laptop.post(ROUTES.logout);
    await logInRemembered(laptop, username, codes[0]!);
    const other = firefoxFrom('2001:db8::42');
    await logInRemembered(other, username, codes[1]!);
    const user = (await server.services.accounts.findByUsername(username))!;

    const page = await laptop.get(ROUTES.manageAccount);
    const listed = items(devicesCard(page.text));
    expect(listed).toHaveLength(2);
    // The same browser twice, told apart by the address, written as the security history writes it.
    const own = listed.find((item) => item.includes('This browser'))!;
    const theirs = listed.find((item) => !item.includes('This browser'))!;
    expect(own).toContain('<strong>Firefox 128 on Windows</strong><span>from <span class="break-anywhere">203.0.113.7</span></span>');
    expect(theirs).toContain('<strong>Firefox 128 on Windows</strong><span>from <span class="break-anywhere">2001:db8::42</span></span>');
    expect(theirs).toContain('Forget<span class="visually-hidden"> Firefox 128 on Windows from 2001:db8::42 remembered');

    const target = (await server.services.rememberedDevices.list(user)).find((device) => device.address === '2001:db8::42')!;
    expect(theirs).toContain(`value="${target.id}"`);
    await makeStale(user.id);
    const ask = await laptop.post(END_ROUTES.forgetDevice, { [END_FIELDS.device]: target.id });
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('<h1>Forget this device?</h1>');
    const named = `Firefox 128 on Windows from 2001:db8::42, remembered ${formatTime(target.createdAt)}, will ask for a second factor again at its next login.`;
    expect(ask.text).toContain(named);
    // Asked again after a wrong password: still named the same way.
    const wrong = await laptop.post(END_ROUTES.forgetDevice, { [END_FIELDS.device]: target.id, [END_FIELDS.confirm]: '1', [FIELDS.password]: 'not it' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain(named);
    expect(await server.services.rememberedDevices.list(user)).toHaveLength(2);
    const right = await laptop.post(END_ROUTES.forgetDevice, { [END_FIELDS.device]: target.id, [END_FIELDS.confirm]: '1', [FIELDS.password]: PASSWORD });
    expect(right.status).toBe(303);
    expect((await server.services.rememberedDevices.list(user)).map((device) => device.address)).toEqual(['203.0.113.7']);
  });

  it('a device whose event is gone, or recorded no address, says "address not recorded", never a blank', async () => {
    const laptop = firefoxFrom('203.0.113.7');
    const user = (await server.services.accounts.findByUsername(await registerIn(laptop)))!;
    await server.services.rememberedDevices.issue(user, { ip: null, userAgent: FIREFOX });
    await server.services.rememberedDevices.issue(user, { ip: '198.51.100.20', userAgent: FIREFOX });
    const target = (await server.services.rememberedDevices.list(user)).find((device) => device.address === '198.51.100.20')!;
    await server.services.db.deleteFrom('events').where('id', '=', target.eventId!).execute();

    const listed = items(devicesCard((await laptop.get(ROUTES.manageAccount)).text));
    expect(listed).toHaveLength(2);
    for (const item of listed) {
      expect(item).toContain('<strong>Firefox 128 on Windows</strong><span class="muted">address not recorded</span>');
      expect(item).not.toContain('break-anywhere');
    }
    await makeStale(user.id);
    const ask = await laptop.post(END_ROUTES.forgetDevice, { [END_FIELDS.device]: target.id });
    expect(ask.status).toBe(200);
    expect(ask.text).toContain(
      `Firefox 128 on Windows (address not recorded), remembered ${formatTime(target.createdAt)}, will ask for a second factor again at its next login.`,
    );
  });
});
