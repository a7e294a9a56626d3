import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FIELDS, ROUTES, isApiFailure, isolate, type ApiFailure, type WebauthnAuthenticateSuccess } from '@latchkey/shared';
import { softAuthenticator, type SoftAuthenticator } from '@latchkey/test/soft-authenticator';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { createSessionClient, type SessionClient, type SessionResponse } from '../../../test/src/kit/create-session-client.js';
import { DEFAULT_REQUEST_LIMITS, LIFTED_REQUEST_LIMITS, testConfig } from '../config.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { startServer, type RunningServer } from '../main.js';
import { EVENT_TAGS } from '../services/events.js';
import { codesOnPage } from '../testing/http-harness.js';
import { linkIn, readOutbox } from '../testing/read-outbox.js';
import { KEY_RENAME } from '../views/webauthn-provision-page.js';
import { SESSION_ENDED_NOTICES } from './login-notice.js';

// The browser's origin as the server is configured to expect it. The soft authenticator puts it in
// clientDataJSON; the HTTP client talks to 127.0.0.1 (no browser is involved).
const ORIGIN = 'http://localhost:8080';
const PASSWORD = 'correct horse battery staple';
const OPTIONS_PER_ACCOUNT = DEFAULT_REQUEST_LIMITS['webauthn-options'].perSubject!;

function failureOf(response: SessionResponse): string[] {
  const body = response.json<ApiFailure>();
  expect(isApiFailure(body)).toBe(true);
  return body.fail.errors;
}

/** The key list's removal forms shown open (a refused removal reopens its own). */
function openRemovalForms(html: string): string[] {
  return [...html.matchAll(/<details class="key-remove" open(?:="")?>[\s\S]*?<\/details>/g)].map((match) => match[0]);
}

describe.each(['sqlite', 'postgres'] as const)('security-key routes on %s', (dialect) => {
  let server: RunningServer;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabaseUrl(dialect);
    drop = database.drop;
    // Every client here is 127.0.0.1: the per-account options limit is the shipped one, the rest lifted.
    const requestLimits = { ...LIFTED_REQUEST_LIMITS, 'webauthn-options': { ...LIFTED_REQUEST_LIMITS['webauthn-options'], perSubject: OPTIONS_PER_ACCOUNT } };
    server = await startServer(testConfig({ databaseUrl: database.databaseUrl, port: 0, origin: ORIGIN, rpId: 'localhost', requestLimits }));
  });

  afterAll(async () => {
    await server?.close();
    await drop?.();
  });

  let counter = 0;
  async function registeredClient(): Promise<{ client: SessionClient; username: string }> {
    const username = `maint${++counter}${dialect}`;
    const client = createSessionClient(server.url);
    const response = await client.submit(ROUTES.register, {
      [FIELDS.username]: username,
      [FIELDS.email]: `${username}@example.org`,
      [FIELDS.newPassword]: PASSWORD,
      [FIELDS.passwordConfirm]: PASSWORD,
    });
    expect(response.status).toBe(303);
    const [mail] = await readOutbox(server.services, { to: `${username}@example.org`, kind: 'verify-email' });
    expect((await client.get(linkIn(mail!.text, ROUTES.verifyEmail)!)).status).toBe(303);
    return { client, username };
  }

  async function addKey(client: SessionClient, key: SoftAuthenticator, label: string): Promise<SessionResponse> {
    expect((await client.get(ROUTES.webauthnProvision)).status).toBe(200);
    const options = await client.postJson(ROUTES.webauthnProvisionOptions, { label });
    expect(options.status).toBe(200);
    const credential = key.createRegistrationResponse(options.json<PublicKeyCredentialCreationOptionsJSON>(), { origin: ORIGIN });
    return client.postJson(ROUTES.webauthnProvisionValidate, { credential, label });
  }

  /** Logs out, enters the password and returns the two-factor page's query (`?token=…`). */
  async function passwordStep(client: SessionClient, username: string): Promise<string> {
    await client.get(ROUTES.manageAccount);
    await client.post(ROUTES.logout);
    const login = await client.submit(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
    expect(login.status).toBe(303);
    const location = new URL(login.location ?? '');
    expect(location.pathname).toBe(ROUTES.twoFactor);
    const page = await client.get(login.location ?? '');
    expect(page.status).toBe(200);
    return location.search;
  }

  async function assertion(client: SessionClient, query: string, key: SoftAuthenticator): Promise<AuthenticationResponseJSON> {
    const options = await client.postJson(`${ROUTES.webauthnAuthenticateOptions}${query}`, {});
    expect(options.status).toBe(200);
    return key.createAuthenticationResponse(options.json<PublicKeyCredentialRequestOptionsJSON>(), { origin: ORIGIN });
  }

  it('a password reset committing after the key was accepted leaves that login logged out, and says why', async () => {
    const { client, username } = await registeredClient();
    const key = softAuthenticator();
    expect((await addKey(client, key, 'Desk key')).status).toBe(200);
    const query = await passwordStep(client, username);
    const credential = await assertion(client, query, key);
    const user = (await server.services.accounts.findByUsername(username))!;
    // The owner's reset commits between the accepted key (its login token used up) and the session
    // (services/login.ts startSession).
    const tokens = server.services.loginTokens;
    const consume = tokens.consume;
    tokens.consume = async (...args) => {
      tokens.consume = consume;
      const consumed = await consume(...args);
      await server.services.passwordChanges.setPassword(user.id, 'a brand new passphrase 8812', { reason: 'reset' });
      return consumed;
    };
    const validated = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential });
    // Before: 200 "Logged in with your security key." with no session behind it.
    expect(validated.status).toBe(409);
    expect(failureOf(validated)).toEqual([SESSION_ENDED_NOTICES.changed]);
    expect(validated.json<ApiFailure>().fail.restart).toBe(`${ROUTES.login}?ended=changed`);
    expect(await server.services.sessions.listForUser(user.id)).toEqual([]);
    expect((await client.get(ROUTES.manageAccount)).status).toBe(303);
    // The history: the key was used, the reset, and the login stopped — not "Logged in (security key)" (QA: it was
    // recorded before the session was refused).
    const history = (await server.services.events.list(user.id)).slice(0, 3).map((event) => event.tag);
    expect(history).toEqual([EVENT_TAGS.loginStopped, EVENT_TAGS.passwordReset, EVENT_TAGS.webauthnUsed]);
  });

  it('a new key the owner cannot add is recorded as not added — not as a failed login, and no "someone knows your password" mail', async () => {
    const { client, username } = await registeredClient();
    expect((await client.get(ROUTES.webauthnProvision)).status).toBe(200);
    const options = await client.postJson(ROUTES.webauthnProvisionOptions, { label: 'Desk key' });
    // Made for another site (a browser extension in the way, a misconfigured origin): its answer does not verify.
    const credential = softAuthenticator().createRegistrationResponse(options.json<PublicKeyCredentialCreationOptionsJSON>(), {
      origin: 'https://other.example',
    });
    const refused = await client.postJson(ROUTES.webauthnProvisionValidate, { credential, label: 'Desk key' });
    expect(refused.status).toBe(400);
    const user = (await server.services.accounts.findByUsername(username))!;
    const [latest] = await server.services.events.list(user.id);
    // Before: account:two_factor:failure, "Failed second factor (security key)", and the failed-login notice mailed.
    expect(latest).toMatchObject({ tag: EVENT_TAGS.webauthnRegistrationRefused, details: { ceremony: 'registration', label: 'Desk key' } });
    expect(await readOutbox(server.services, { to: `${username}@example.org`, kind: 'notice:second-factor-failure' })).toEqual([]);
  });

  it('an answer whose challenge was already used (the same login sent twice) is no failed second factor: no alarm mail, the login goes on', async () => {
    const { client, username } = await registeredClient();
    const key = softAuthenticator();
    expect((await addKey(client, key, 'Desk key')).status).toBe(200);
    const query = await passwordStep(client, username);
    const credential = await assertion(client, query, key);
    // The first request has burnt the challenge and is about to use the login token up when the second
    // copy of the same answer arrives (a retried POST, a double click in a page without the script's guard).
    const tokens = server.services.loginTokens;
    const consume = tokens.consume;
    let second: SessionResponse | undefined;
    tokens.consume = async (...args) => {
      tokens.consume = consume;
      second = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential });
      return consume(...args);
    };
    const first = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential });
    expect(first.status).toBe(200);
    expect(second?.status).toBe(401);
    expect(failureOf(second!)[0]).toMatch(/^This security-key request has expired or was already used\./);

    const user = (await server.services.accounts.findByUsername(username))!;
    const history = await server.services.events.list(user.id);
    // Before: account:two_factor:failure ("Failed second factor (security key)") and the mail below.
    expect(history.map((event) => event.tag)).not.toContain(EVENT_TAGS.secondFactorFailure);
    expect(history.find((event) => event.tag === EVENT_TAGS.loginFailure)?.details).toMatchObject({ method: 'webauthn', reason: 'challenge-invalid' });
    expect(await readOutbox(server.services, { to: `${username}@example.org`, kind: 'notice:second-factor-failure' })).toEqual([]);
  });

  it('an answer to one login’s options does not complete another login of the same account, and stays good for its own (QA h5)', async () => {
    const { client, username } = await registeredClient();
    const key = softAuthenticator();
    expect((await addKey(client, key, 'Desk key')).status).toBe(200);
    const query = await passwordStep(client, username);
    const credential = await assertion(client, query, key);
    // Someone else past the password step (their own login, their own token) presents the answer made for the first login.
    const other = createSessionClient(server.url);
    const otherLogin = await other.submit(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
    const otherQuery = new URL(otherLogin.location ?? '').search;
    expect((await other.get(otherLogin.location ?? '')).status).toBe(200);
    const foreign = await other.postJson(`${ROUTES.webauthnAuthenticateValidate}${otherQuery}`, { credential });
    // Before: 200 "Logged in with your security key." — the challenge was bound to the account, not to the login that asked.
    expect(foreign.status).toBe(401);
    expect(failureOf(foreign)[0]).toMatch(/^This security-key request has expired or was already used\./);
    expect((await other.get(ROUTES.manageAccount)).status).toBe(303);
    // Refused unexamined, it did not use the challenge up: the login that asked for it still completes with it.
    const own = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential });
    expect(own.status).toBe(200);
    expect((await client.get(ROUTES.manageAccount)).status).toBe(200);
  });

  it('a key touched after the login’s 5 minutes (the prompt left open): "Log in again", nothing counted or recorded as a failure', async () => {
    const { client, username } = await registeredClient();
    const key = softAuthenticator();
    expect((await addKey(client, key, 'Desk key')).status).toBe(200);
    const query = await passwordStep(client, username);
    const credential = await assertion(client, query, key);
    // The login token is older than the challenge and lives as long, so it is the one found expired first.
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 5 * 60_000 + 1_000);
    try {
      const late = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential });
      expect(late.status).toBe(400);
      expect(late.json<ApiFailure>().fail.restart).toBe(ROUTES.login);
    } finally {
      clock.mockRestore();
    }
    const user = (await server.services.accounts.findByUsername(username))!;
    const tags = (await server.services.events.list(user.id)).map((event) => event.tag);
    expect(tags).not.toContain(EVENT_TAGS.secondFactorFailure);
    expect(tags).not.toContain(EVENT_TAGS.loginFailure);
    expect(await readOutbox(server.services, { to: `${username}@example.org`, kind: 'notice:second-factor-failure' })).toEqual([]);
  });

  it('answers to challenges that are not open still count against the second-factor limit (NIST SP 800-63B 5.2.2)', async () => {
    const { client, username } = await registeredClient();
    const key = softAuthenticator();
    expect((await addKey(client, key, 'Desk key')).status).toBe(200);
    const query = await passwordStep(client, username);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      // Signed by the account's own key, for a challenge this server never issued (or dropped long ago).
      const stale = key.createAuthenticationResponse(
        { challenge: Buffer.from(`never issued ${attempt}`).toString('base64url'), rpId: 'localhost', allowCredentials: [] },
        { origin: ORIGIN },
      );
      const response = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential: stale });
      statuses.push(response.status);
      if (attempt === 0) expect(failureOf(response)[0]).toMatch(/expired or was already used\. .* 4 attempts left before two-factor login is paused/);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    // Still locked for a real answer now, until the pause ends.
    expect((await client.postJson(`${ROUTES.webauthnAuthenticateOptions}${query}`, {})).status).toBe(429);
    const user = (await server.services.accounts.findByUsername(username))!;
    const tags = (await server.services.events.list(user.id)).map((event) => event.tag);
    expect(tags.filter((tag) => tag === EVENT_TAGS.loginFailure)).toHaveLength(5);
    expect(tags).toContain(EVENT_TAGS.lockout);
    expect(tags).not.toContain(EVENT_TAGS.secondFactorFailure);
    expect(await readOutbox(server.services, { to: `${username}@example.org`, kind: 'notice:second-factor-failure' })).toEqual([]);
    // But the pause they caused is mailed: only someone past the password step can cause it, and unheard it
    // would let them keep the owner out without a word (review).
    const paused = await readOutbox(server.services, { to: `${username}@example.org`, kind: 'notice:second-factor-paused' });
    expect(paused).toHaveLength(1);
    expect(paused[0]!.subject).toContain('two-factor login paused on your account');
  });

  it('a key whose use count did not grow is refused and the owner is mailed: it can mean a copy of the key', async () => {
    const { client, username } = await registeredClient();
    const key = softAuthenticator();
    expect((await addKey(client, key, 'Desk key')).status).toBe(200);
    const answer = async (query: string, signCount: number) => {
      const options = await client.postJson(`${ROUTES.webauthnAuthenticateOptions}${query}`, {});
      const credential = key.createAuthenticationResponse(options.json<PublicKeyCredentialRequestOptionsJSON>(), { origin: ORIGIN, signCount });
      return client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential });
    };
    expect((await answer(await passwordStep(client, username), 7)).status).toBe(200);
    const copied = await answer(await passwordStep(client, username), 7);
    expect(copied.status).toBe(401);
    expect(failureOf(copied)[0]).toMatch(/use count lower than before/);
    const mails = await readOutbox(server.services, { to: `${username}@example.org`, kind: 'notice:security-key-count' });
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toContain('may have been copied');
    expect(mails[0]!.text).toContain(`“${isolate('Desk key')}”`);
  });

  it('adds a first key (then offers recovery codes), logs out and logs in with it', async () => {
    const { client, username } = await registeredClient();
    const key = softAuthenticator();
    const added = await addKey(client, key, 'Desk key');
    expect(added.status).toBe(200);
    const body = added.json<{ success: string; redirect_to: string }>();
    expect(body.success).toContain('Desk key');
    expect(body.redirect_to).toMatch(/^\/manage\/account\/recovery-codes\/\?show=[A-Za-z0-9_-]{22}$/);
    const codesPage = await client.get(body.redirect_to);
    expect(codesPage.status).toBe(200);
    expect(codesPage.body).toMatch(/[0-9a-f]{4}[- ]?[0-9a-f]{4}/);

    const account = await client.get(ROUTES.manageAccount);
    expect(account.body).toContain('Desk key');
    expect(account.body).toContain(ROUTES.webauthnProvisionDelete);

    const query = await passwordStep(client, username);
    const page = await client.get(`${ROUTES.twoFactor}${query}`);
    expect(page.body).toContain('id="webauthn-auth-begin"');
    expect(page.body).toContain('<script type="module" src="/static/webauthn-authenticate.js">');
    expect(page.body).not.toContain('name="totp_value"');

    const credential = await assertion(client, query, key);
    const validated = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential });
    expect(validated.status).toBe(200);
    expect(validated.json<WebauthnAuthenticateSuccess>().redirect_to).toBe(ROUTES.manageAccount);
    const after = await client.get(ROUTES.manageAccount);
    expect(after.status).toBe(200);
    expect(after.body).toContain(username);

    // T is used up with the session: the same token cannot start another key login.
    const reuse = await client.postJson(`${ROUTES.webauthnAuthenticateOptions}${query}`, {});
    expect(reuse.status).toBe(400);
    expect(failureOf(reuse)[0]).toMatch(/already been used|log in again/i);

    const tags = (await server.services.events.list((await server.services.accounts.findByUsername(username))!.id)).map((e) => e.tag);
    expect(tags).toEqual(expect.arrayContaining([EVENT_TAGS.methodAdded, EVENT_TAGS.webauthnUsed, EVENT_TAGS.loginSuccess]));
  });

  it('a key added after every recovery code was used brings a new set, without saying 2FA is now on (QA finding 7)', async () => {
    const { client, username } = await registeredClient();
    const first = (await addKey(client, softAuthenticator(), 'Desk key')).json<{ redirect_to: string }>();
    const firstPage = await client.get(first.redirect_to);
    expect(firstPage.body).toContain('Two-factor authentication is now on.');
    const user = (await server.services.accounts.findByUsername(username))!;
    for (const code of codesOnPage(firstPage.body)) expect(await server.services.recoveryCodes.use(user.id, code)).toBe('ok');

    const second = await addKey(client, softAuthenticator(), 'Pocket key');
    expect(second.status).toBe(200);
    const { redirect_to } = second.json<{ redirect_to: string }>();
    expect(redirect_to).toMatch(/^\/manage\/account\/recovery-codes\/\?show=/);
    const secondPage = await client.get(redirect_to);
    expect(codesOnPage(secondPage.body)).toHaveLength(8);
    // 2FA was on the whole time: only the codes are new, and no unused code was voided.
    expect(secondPage.body).not.toContain('Two-factor authentication is now on');
    expect(secondPage.body).not.toContain('Any older recovery codes have stopped working.');
    expect(secondPage.body).toContain('You had used all your recovery codes, so a new set was made with your new second factor.');
  });

  it('meters ceremony options per account (each stores a challenge): a clear 429 JSON with Retry-After, other accounts unaffected', async () => {
    const { client, username } = await registeredClient();
    expect((await addKey(client, softAuthenticator(), 'Desk key')).status).toBe(200);
    const query = await passwordStep(client, username);
    // Adding the key asked for options once; the login's options requests fill the rest of the window.
    const statuses: number[] = [];
    for (let i = 1; i < OPTIONS_PER_ACCOUNT.max; i++) statuses.push((await client.postJson(`${ROUTES.webauthnAuthenticateOptions}${query}`, {})).status);
    expect(statuses.every((status) => status === 200)).toBe(true);
    const refused = await client.postJson(`${ROUTES.webauthnAuthenticateOptions}${query}`, {});
    expect(refused.status).toBe(429);
    expect(failureOf(refused)[0]).toBe('Too many security-key requests for this account. Try again in 15 minutes.');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(800);
    // Another account (same address) still gets options; adding keys in a session is metered the same way.
    const other = await registeredClient();
    expect((await other.client.get(ROUTES.webauthnProvision)).status).toBe(200);
    const adding: number[] = [];
    for (let i = 0; i < OPTIONS_PER_ACCOUNT.max; i++) adding.push((await other.client.postJson(ROUTES.webauthnProvisionOptions, { label: 'Desk key' })).status);
    expect(adding.every((status) => status === 200)).toBe(true);
    const refusedAdd = await other.client.postJson(ROUTES.webauthnProvisionOptions, { label: 'Desk key' });
    expect(refusedAdd.status).toBe(429);
    expect(failureOf(refusedAdd)[0]).toMatch(/^Too many security-key requests for this account\. Try again in \d+ minutes\.$/);
    expect(refusedAdd.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('remembers this device after a key login when asked (a key-only user can be remembered)', async () => {
    const { client, username } = await registeredClient();
    const key = softAuthenticator();
    await addKey(client, key, 'Only key');
    let query = await passwordStep(client, username);
    expect((await client.get(`${ROUTES.twoFactor}${query}`)).body).toContain('name="remember_device"');
    const notRemembered = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, {
      credential: await assertion(client, query, key),
      [FIELDS.rememberDevice]: false,
    });
    expect(notRemembered.status).toBe(200);
    query = await passwordStep(client, username); // still asks for the key
    const remembered = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, {
      credential: await assertion(client, query, key),
      [FIELDS.rememberDevice]: true,
    });
    expect(remembered.status).toBe(200);
    await client.get(ROUTES.manageAccount);
    await client.post(ROUTES.logout);
    const login = await client.submit(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
    expect(new URL(login.location ?? '', server.url).pathname).toBe(ROUTES.manageAccount);
  });

  it('keeps `next` through the key login', async () => {
    const { client, username } = await registeredClient();
    const key = softAuthenticator();
    await addKey(client, key, 'k');
    await client.get(ROUTES.manageAccount);
    await client.post(ROUTES.logout);
    // The login page carries `next` as a hidden field, as a browser would submit it.
    const login = await client.submit(`${ROUTES.login}?next=${encodeURIComponent(ROUTES.webauthnProvision)}`, {
      [FIELDS.username]: username,
      [FIELDS.password]: PASSWORD,
      [FIELDS.next]: ROUTES.webauthnProvision,
    });
    const query = new URL(login.location ?? '').search;
    expect(query).toContain('next=');
    const credential = await assertion(client, query, key);
    const validated = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential });
    expect(validated.json<WebauthnAuthenticateSuccess>().redirect_to).toBe(ROUTES.webauthnProvision);
  });

  it('answers bad input with 4xx and a message, never a 500', async () => {
    const { client, username } = await registeredClient();
    const key = softAuthenticator();
    await addKey(client, key, 'k');
    const query = await passwordStep(client, username);

    const noCsrf = await client.postJson(`${ROUTES.webauthnAuthenticateOptions}${query}`, {}, { csrfToken: 'wrong' });
    expect(noCsrf.status).toBe(403);
    expect(failureOf(noCsrf)[0]).toMatch(/expired|did not come from this site/);

    const noToken = await client.postJson(ROUTES.webauthnAuthenticateOptions, {});
    expect(noToken.status).toBe(400);
    expect(failureOf(noToken)[0]).toMatch(/log in again/i);
    // A login that can never succeed says where to start over; the page offers that instead of its button.
    expect(noToken.json<ApiFailure>().fail.restart).toBe(ROUTES.login);

    for (const body of [{}, { credential: 'x' }, { credential: { id: 'a', rawId: 'a', type: 'public-key', response: {} } }, [], [{ credential: 'x' }]]) {
      const response = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, body);
      expect(response.status).toBe(400);
      expect(failureOf(response).length).toBeGreaterThan(0);
      // The schema's own words, never Zod's answer to an array ("expected object, received array").
      expect(failureOf(response).join(' '), JSON.stringify(body)).not.toMatch(/received array/);
    }
    const garbage = await assertion(client, query, key);
    const mangled = { ...garbage, response: { ...garbage.response, authenticatorData: 'AAAA', signature: 'AAAA' } };
    const response = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential: mangled });
    expect(response.status).toBe(401);
    expect(failureOf(response)[0]).toMatch(/could not be verified/);
    expect(response.json<ApiFailure>().fail.restart).toBeUndefined(); // a refused key: the same login can try again

    const notJson = await client.postJson(`${ROUTES.webauthnProvisionOptions}`, {});
    expect(notJson.status).toBe(401); // logged out at this point: no session
  });

  it('refuses a key from another account and locks the second factor after repeated failures', async () => {
    const alice = await registeredClient();
    const bob = await registeredClient();
    const aliceKey = softAuthenticator();
    const bobKey = softAuthenticator();
    await addKey(alice.client, aliceKey, 'alice key');
    await addKey(bob.client, bobKey, 'bob key');
    const query = await passwordStep(alice.client, alice.username);

    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const options = await alice.client.postJson(`${ROUTES.webauthnAuthenticateOptions}${query}`, {});
      const forged = bobKey.createAuthenticationResponse(
        { ...options.json<PublicKeyCredentialRequestOptionsJSON>(), allowCredentials: [] },
        { origin: ORIGIN },
      );
      const response = await alice.client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential: forged });
      statuses.push(response.status);
      if (attempt === 0) expect(failureOf(response)[0]).toMatch(/not registered to your account/);
    }
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(statuses[4]).toBe(429);
    const blocked = await alice.client.postJson(`${ROUTES.webauthnAuthenticateOptions}${query}`, {});
    expect(blocked.status).toBe(429);
    expect(failureOf(blocked)[0]).toMatch(/Too many failed attempts\. Try again in \d+ minutes?\./);
  });

  it('needs the password to add a key when the last login is older than 5 minutes', async () => {
    const { client, username } = await registeredClient();
    const user = await server.services.accounts.findByUsername(username);
    await server.services.db.updateTable('sessions').set({ authenticated_at: 0 }).where('user_id', '=', user!.id).execute();
    const page = await client.get(ROUTES.webauthnProvision);
    expect(page.body).toContain('name="password"');
    expect(page.body).toContain('<div id="webauthn-provision-reauth">'); // shown
    const without = await client.postJson(ROUTES.webauthnProvisionOptions, { label: 'k' });
    expect(without.status).toBe(400);
    expect(failureOf(without)[0]).toMatch(/password/i);
    // The refusal names its field, so a page rendered without it (inside the window, left open) can show it.
    expect(without.json<ApiFailure>().fail.field).toBe(FIELDS.password);
    const wrong = await client.postJson(ROUTES.webauthnProvisionOptions, { label: 'k', password: 'not my password at all' });
    expect(wrong.status).toBe(401);
    expect(wrong.json<ApiFailure>().fail.field).toBe(FIELDS.password);
    const right = await client.postJson(ROUTES.webauthnProvisionOptions, { label: 'k', password: PASSWORD });
    expect(right.status).toBe(200);
  });

  it('a key touched after the 5-minute window closed is still added when its options were asked inside it', async () => {
    const { client, username } = await registeredClient();
    const userId = (await server.services.accounts.findByUsername(username))!.id;
    const setLoginAge = (ms: number) =>
      server.services.db
        .updateTable('sessions')
        .set({ authenticated_at: Date.now() - ms })
        .where('user_id', '=', userId)
        .execute();
    // Logged in 4½ minutes ago: the page has no password field, and the options need none.
    await setLoginAge(270_000);
    // The field is rendered (the page script only shows it, if the page stays open past the window), hidden.
    expect((await client.get(ROUTES.webauthnProvision)).body).toContain('<div id="webauthn-provision-reauth" hidden>');
    const options = await client.postJson(ROUTES.webauthnProvisionOptions, { label: 'slow touch' });
    expect(options.status).toBe(200);
    // The person takes a minute to find and touch the key (the browser waits up to 2 minutes).
    await setLoginAge(330_000);
    const credential = softAuthenticator().createRegistrationResponse(options.json<PublicKeyCredentialCreationOptionsJSON>(), { origin: ORIGIN });
    const added = await client.postJson(ROUTES.webauthnProvisionValidate, { credential, label: 'slow touch' });
    expect(added.status).toBe(200);
    // Past the window and the ceremony's timeout together, the answer is refused.
    const late = await client.postJson(ROUTES.webauthnProvisionOptions, { label: 'too late', password: PASSWORD });
    expect(late.status).toBe(200);
    await setLoginAge(5 * 60_000 + 120_000 + 1_000);
    const lateCredential = softAuthenticator().createRegistrationResponse(late.json<PublicKeyCredentialCreationOptionsJSON>(), { origin: ORIGIN });
    const refused = await client.postJson(ROUTES.webauthnProvisionValidate, { credential: lateCredential, label: 'too late' });
    expect(refused.status).toBe(401);
    expect(failureOf(refused)[0]).toMatch(/reload the page/i);
  });

  it('explains label problems before the key is touched', async () => {
    const { client } = await registeredClient();
    await addKey(client, softAuthenticator(), 'Blue key');
    const duplicate = await client.postJson(ROUTES.webauthnProvisionOptions, { label: ' blue KEY ' });
    expect(duplicate.status).toBe(400);
    // The name the existing key has, not the one typed: they differ in case and spaces, and the message points at the list.
    expect(failureOf(duplicate)).toEqual([`You already have a security key named “${isolate('Blue key')}”. Choose another name.`]);
    const long = await client.postJson(ROUTES.webauthnProvisionOptions, { label: 'x'.repeat(65) });
    expect(failureOf(long)[0]).toMatch(/at most 64 characters/);
  });

  it('removes a key only with the right password; the removed key then cannot log in', async () => {
    const { client, username } = await registeredClient();
    const lost = softAuthenticator();
    const spare = softAuthenticator();
    await addKey(client, lost, 'lost');
    await addKey(client, spare, 'spare');
    await client.get(ROUTES.webauthnProvision);

    const wrong = await client.post(ROUTES.webauthnProvisionDelete, { [FIELDS.label]: 'lost', [FIELDS.password]: 'definitely wrong pw' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('That password is not correct.');
    // That key's removal form is open again, the reason on its password field (as a refused rename shows its form); the others closed.
    const refusedRemoval = openRemovalForms(wrong.body);
    expect(refusedRemoval).toHaveLength(1);
    expect(refusedRemoval[0]).toContain('<input type="hidden" name="label" value="lost"/>');
    expect(refusedRemoval[0]).toMatch(/name="password" type="password"[^>]*aria-invalid="true" aria-describedby="remove-key-password-0-error"/);
    expect(refusedRemoval[0]).toMatch(/<p class="field-error" id="remove-key-password-0-error">That password is not correct\./);
    expect(refusedRemoval[0]).not.toContain('definitely wrong pw');
    expect((await client.get(ROUTES.webauthnProvision)).body).toContain('lost');

    const removed = await client.post(ROUTES.webauthnProvisionDelete, { [FIELDS.label]: 'lost', [FIELDS.password]: PASSWORD });
    expect(removed.status).toBe(303);
    const list = await client.follow(removed);
    expect(list.body).toContain(`Security key “${isolate('lost')}” removed.`);
    expect(list.body).not.toContain('>lost<');

    const query = await passwordStep(client, username);
    const options = await client.postJson(`${ROUTES.webauthnAuthenticateOptions}${query}`, {});
    const request = options.json<PublicKeyCredentialRequestOptionsJSON>();
    const userId = (await server.services.accounts.findByUsername(username))!.id;
    expect(request.allowCredentials?.map((c) => c.id)).toEqual([spare.credentials[0]!.id]);
    const stale = lost.createAuthenticationResponse({ ...request, allowCredentials: [] }, { origin: ORIGIN });
    const refused = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, { credential: stale });
    expect(refused.status).toBe(401);
    expect(failureOf(refused)[0]).toMatch(/not registered to your account/);

    // Removing the last key turns 2FA off and deletes the leftover recovery codes, and says so.
    const loggedIn = await client.postJson(`${ROUTES.webauthnAuthenticateValidate}${query}`, {
      credential: spare.createAuthenticationResponse((await client.postJson(`${ROUTES.webauthnAuthenticateOptions}${query}`, {})).json(), { origin: ORIGIN }),
    });
    expect(loggedIn.status).toBe(200);
    expect(await server.services.recoveryCodes.remaining(userId)).toBe(8);
    const keysPage = await client.get(ROUTES.webauthnProvision);
    expect(keysPage.body).toContain('This is your only second factor');
    expect(keysPage.body).toMatch(/<input id="remove-key-confirm-0" type="checkbox" name="confirm" value="on" required/);
    // The last factor goes only with the confirmation ticked; without it, the key page says why, nothing changes.
    const unconfirmed = await client.post(ROUTES.webauthnProvisionDelete, { [FIELDS.label]: 'spare', [FIELDS.password]: PASSWORD });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.body).toContain('This is your last second factor: tick the box');
    const refusedLast = openRemovalForms(unconfirmed.body);
    expect(refusedLast).toHaveLength(1);
    expect(refusedLast[0]).toMatch(/id="remove-key-confirm-0" type="checkbox"[^>]*aria-invalid="true" aria-describedby="remove-key-confirm-0-error"/);
    expect(refusedLast[0]).toMatch(/<p class="field-error" id="remove-key-confirm-0-error">This is your last second factor: tick the box/);
    expect((await server.services.accounts.twoFactorStatus(userId)).enabled).toBe(true);
    const last = await client.post(ROUTES.webauthnProvisionDelete, { [FIELDS.label]: 'spare', [FIELDS.password]: PASSWORD, confirm: 'on' });
    expect(last.status).toBe(303);
    expect((await client.follow(last)).body).toContain('Two-factor authentication is now off and your recovery codes were deleted');
    expect(await server.services.recoveryCodes.remaining(userId)).toBe(0);
    expect((await server.services.accounts.twoFactorStatus(userId)).enabled).toBe(false);
  });

  it('renaming or removing a key another tab renamed or removed meanwhile: 409, says so, nothing changed', async () => {
    const { client, username } = await registeredClient();
    await addKey(client, softAuthenticator(), 'Desk key');
    await addKey(client, softAuthenticator(), 'Spare key');
    await client.get(ROUTES.webauthnProvision);
    const userId = (await server.services.accounts.findByUsername(username))!.id;
    // Another tab renames "Desk key"; this tab's forms still name it so.
    const other = await server.services.webauthn.rename(userId, 'Desk key', 'Travel key', { ip: '127.0.0.1', userAgent: null });
    expect(other.label).toBe('Travel key');
    const stale =
      'The security key “\u2068Desk key\u2069” was renamed or removed in another tab or window, so nothing was changed. The list shows your keys as they are now.';
    const rename = await client.post(KEY_RENAME.route, { [FIELDS.label]: 'Desk key', [KEY_RENAME.newLabelField]: 'Home key' });
    expect(rename.status).toBe(409);
    expect(rename.body).toContain(stale);
    const remove = await client.post(ROUTES.webauthnProvisionDelete, { [FIELDS.label]: 'Desk key', [FIELDS.password]: PASSWORD });
    expect(remove.status).toBe(409);
    expect(remove.body).toContain(stale);
    expect((await server.services.webauthn.list(userId)).map((key) => key.label)).toEqual(['Travel key', 'Spare key']);
  });

  it('a right-to-left label is a bidi isolate of its own in the messages and on the key list', async () => {
    // A flash and the JSON success are text: the label between FSI and PDI. The list is markup: a <bdi>. Without
    // them the sentence's direction drew the label's own end ("مفتاح!") on the wrong side of it, beside the quotes.
    const { client } = await registeredClient();
    const added = await addKey(client, softAuthenticator(), 'مفتاح!');
    expect(added.status).toBe(200);
    expect(added.json<{ success: string }>().success).toBe('Security key “\u2068مفتاح!\u2069” added.');
    expect((await addKey(client, softAuthenticator(), '2 مفتاح')).status).toBe(200);
    const keys = (await client.get(ROUTES.webauthnProvision)).body;
    expect(keys).toContain('<td data-label="Name" class="break-anywhere"><bdi>مفتاح!</bdi></td>');
    expect(keys).toContain('Remove “<bdi>2 مفتاح</bdi>”</button>');

    const renamed = await client.post(KEY_RENAME.route, { [FIELDS.label]: 'مفتاح!', [KEY_RENAME.newLabelField]: 'מפתח 3' });
    expect(renamed.status).toBe(303);
    expect((await client.follow(renamed)).body).toContain('Security key “\u2068مفتاح!\u2069” renamed to “\u2068מפתח 3\u2069”.');
    const removed = await client.post(ROUTES.webauthnProvisionDelete, { [FIELDS.label]: '2 مفتاح', [FIELDS.password]: PASSWORD });
    expect(removed.status).toBe(303);
    expect((await client.follow(removed)).body).toContain('Security key “\u20682 مفتاح\u2069” removed.');
  });
});
