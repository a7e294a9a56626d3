import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { DEFAULT_REQUEST_LIMITS, LIFTED_REQUEST_LIMITS, testConfig } from '../config.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { startServer, type RunningServer } from '../main.js';
import { EMAIL_VERIFY_TTL_MS } from '../services/emails.js';
import { TestBrowser } from '../testing/browser.js';
import { expireReauthWindow } from '../testing/expire-reauth-window.js';
import { PASSWORD, submitRegistration } from '../testing/http-harness.js';
import { linkIn, readOutbox } from '../testing/read-outbox.js';
import { DIALECTS } from '../testing/service-harness.js';
import { uniqueName } from '../testing/unique-name.js';

describe.each(DIALECTS)('e-mail routes on %s', (dialect) => {
  let server: RunningServer;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabaseUrl(dialect);
    drop = database.drop;
    // Shipped limits for verification mail; registrations lifted (every test registers from 127.0.0.1).
    const requestLimits = { ...DEFAULT_REQUEST_LIMITS, register: LIFTED_REQUEST_LIMITS.register };
    server = await startServer(testConfig({ databaseUrl: database.databaseUrl, port: 0, requestLimits }));
  });
  afterAll(async () => {
    await server?.close();
    await drop?.();
  });

  async function register(b: TestBrowser) {
    const username = uniqueName('e');
    const email = `${username}@example.org`;
    const response = await submitRegistration(b, { username, email });
    expect(response.status).toBe(303);
    return { username, email };
  }
  const verifyLink = async (to: string) => linkIn((await readOutbox(server.services, { to, kind: 'verify-email' })).at(-1)!.text, ROUTES.verifyEmail)!;

  it('registration mails a link; the account page says unverified; adding a first 2FA method is refused with a way to fix it', async () => {
    const b = new TestBrowser(server.url);
    const { email } = await register(b);
    const account = await b.get(ROUTES.manageAccount);
    expect(account.text).toContain(`We sent a link to ${email}`);
    expect(account.text).toMatch(/Not verified/);
    expect(account.text).toMatch(/Your primary address is not verified/);
    for (const path of [ROUTES.totpProvision, ROUTES.webauthnProvision]) {
      const refused = await b.get(path);
      expect(refused.status).toBe(403);
      expect(refused.text).toMatch(/Verify your primary e-mail address first/);
      expect(refused.text).toContain(`href="${ROUTES.manageAccount}#email-addresses"`);
    }
    const options = await b.request('POST', ROUTES.webauthnProvisionOptions, JSON.stringify({ label: 'k' }), {
      'content-type': 'application/json',
      'x-csrf-token': b.csrfToken,
    });
    expect(options.status).toBe(403);

    const verified = await b.get(await verifyLink(email));
    expect(verified.status).toBe(303);
    expect(verified.location).toBe(`${ROUTES.manageAccount}#email-addresses`);
    const after = await b.get(ROUTES.manageAccount);
    expect(after.text).toContain(`Thank you: ${email} is verified.`);
    expect((await b.get(ROUTES.totpProvision)).status).toBe(200);
  });

  it('a HEAD request for the link (a link checker, a mail scanner) verifies nothing: the user’s GET then does', async () => {
    const b = new TestBrowser(server.url);
    const { email } = await register(b);
    const link = await verifyLink(email);
    const head = await b.request('HEAD', link, undefined, {});
    expect(head.status).toBe(200);
    expect(head.headers.get('cache-control')).toBe('no-store');
    expect((await b.get(ROUTES.manageAccount)).text).toMatch(/Not verified/);
    const verified = await b.get(link);
    expect(verified.status).toBe(303);
    expect(verified.location).toBe(`${ROUTES.manageAccount}#email-addresses`);
    expect((await b.get(ROUTES.manageAccount)).text).toContain(`Thank you: ${email} is verified.`);
  });

  it('each bad link gets its own 4xx page: forged, reused, other account, expired; logged out goes to the login first', async () => {
    const b = new TestBrowser(server.url);
    const { email } = await register(b);
    const link = await verifyLink(email);
    const forged = await b.get(link.replace(/token=(.)/, (_m, c: string) => `token=${c === 'A' ? 'B' : 'A'}`));
    expect(forged.status).toBe(400);
    expect(forged.text).toMatch(/This link is not valid/);
    expect((await b.get(ROUTES.verifyEmail)).status).toBe(400);

    const other = new TestBrowser(server.url);
    await register(other);
    const foreign = await other.get(link);
    expect(foreign.status).toBe(403);
    expect(foreign.text).toMatch(/for another account/);
    expect(foreign.text).not.toContain(email);

    const anonymous = new TestBrowser(server.url);
    const redirected = await anonymous.get(link);
    expect(redirected.status).toBe(303);
    expect(redirected.location).toBe(`${ROUTES.login}?${FIELDS.next}=${encodeURIComponent(link)}`);

    expect((await b.get(link)).status).toBe(303);
    const reused = await b.get(link);
    expect(reused.status).toBe(409);
    expect(reused.text).toMatch(/already verified/);

    const late = new TestBrowser(server.url);
    const { email: lateEmail, username: lateName } = await register(late);
    const lateLink = await verifyLink(lateEmail);
    const realNow = Date.now;
    Date.now = () => realNow() + EMAIL_VERIFY_TTL_MS;
    try {
      // A day later the session has ended too: log in again, then open the old link.
      await late.get(ROUTES.login);
      expect((await late.post(ROUTES.login, { [FIELDS.username]: lateName, [FIELDS.password]: PASSWORD })).status).toBe(303);
      const expired = await late.get(lateLink);
      expect(expired.status).toBe(410);
      expect(expired.text).toMatch(/expired/);
    } finally {
      Date.now = realNow;
    }
  });

  it('address management over HTTP: add (bad input re-shown), resend, verify, make primary with the password, remove', async () => {
    const b = new TestBrowser(server.url);
    const { email, username } = await register(b);
    await b.get(await verifyLink(email));
    await b.get(ROUTES.manageAccount);
    const bad = await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: 'not an address' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/aria-invalid="true"/);
    expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'explode' })).status).toBe(400);
    expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'remove', [FIELDS.emailId]: 'abc' })).status).toBe(400);
    expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'remove', [FIELDS.emailId]: '999999999' })).status).toBe(404);

    const second = `two-${username}@example.org`;
    expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: second })).status).toBe(303);
    const addresses = await server.services.emails.list((await server.services.accounts.findByUsername(username))!.id);
    const secondId = String(addresses.find((address) => address.email === second)!.id);
    await b.get(ROUTES.manageAccount);
    expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'make_primary', [FIELDS.emailId]: secondId })).status).toBe(400);
    expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'resend', [FIELDS.emailId]: secondId })).status).toBe(303);
    expect(await readOutbox(server.services, { to: second, kind: 'verify-email' })).toHaveLength(2);
    await b.get(await verifyLink(second));

    // Not authenticated within 5 minutes: the password is asked first.
    const realNow = Date.now;
    Date.now = () => realNow() + 6 * 60_000;
    try {
      await b.get(ROUTES.manageAccount);
      const confirm = await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'make_primary', [FIELDS.emailId]: secondId });
      expect(confirm.status).toBe(200);
      expect(confirm.text).toMatch(/needs your password/);
      const wrong = await b.post(ROUTES.manageEmail, {
        [FIELDS.emailAction]: 'make_primary',
        [FIELDS.emailId]: secondId,
        [FIELDS.password]: 'wrong password!!',
      });
      expect(wrong.status).toBe(401);
      const done = await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'make_primary', [FIELDS.emailId]: secondId, [FIELDS.password]: PASSWORD });
      expect(done.status).toBe(303);
    } finally {
      Date.now = realNow;
    }
    expect((await server.services.accounts.findByUsername(username))?.email).toBe(second);
    expect((await readOutbox(server.services, { to: email, kind: 'notice:primary-email-changed' })).length).toBe(1);
    const firstId = String(addresses.find((address) => address.email === email)!.id);
    await b.get(ROUTES.manageAccount);
    const primaryKept = await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'remove', [FIELDS.emailId]: secondId });
    expect(primaryKept.status).toBe(400);
    // Removing is a change of the address list: that heading stays.
    expect(primaryKept.text).toContain('<h1>Address not changed</h1>');
    expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'remove', [FIELDS.emailId]: firstId })).status).toBe(303);
    // Gone from the address list (the history still names it: “E-mail address … removed”).
    expect((await b.get(ROUTES.manageAccount)).text).not.toContain(`<strong><bdi>${email}</bdi></strong>`);
  });

  it('another account’s address ids answer as missing; logged out answers 401', async () => {
    const owner = new TestBrowser(server.url);
    const { username } = await register(owner);
    const ownerId = (await server.services.emails.list((await server.services.accounts.findByUsername(username))!.id))[0]!.id;
    const stranger = new TestBrowser(server.url);
    await register(stranger);
    await stranger.get(ROUTES.manageAccount);
    const response = await stranger.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'resend', [FIELDS.emailId]: String(ownerId) });
    expect(response.status).toBe(404);
    const anonymous = new TestBrowser(server.url);
    await anonymous.get(ROUTES.login);
    expect((await anonymous.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: 'x@example.org' })).status).toBe(401);
  });

  it('resending is limited: the fourth verification mail within an hour is refused with 429 and Retry-After, and nothing is queued', async () => {
    const b = new TestBrowser(server.url);
    const { email, username } = await register(b);
    const userId = (await server.services.accounts.findByUsername(username))!.id;
    const [primary] = await server.services.emails.list(userId);
    await b.get(ROUTES.manageAccount);
    const resend = () => b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'resend', [FIELDS.emailId]: String(primary!.id) });
    for (let i = 0; i < 3; i++) expect((await resend()).status).toBe(303);
    const refused = await resend();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    // The registration's link plus three resends is also all that one network may send one mailbox in an hour
    // (verification-mail-cap.ts), whose check comes first: its words, and the account's allowance left unspent.
    expect(refused.text).toContain('No e-mail sent: this address has been sent several verification e-mails recently');
    // A refused resend changes no address: its heading says what did not happen.
    expect(refused.text).toContain('<title>No link sent · Latchkey</title>');
    expect(refused.text).toContain('<h1>No link sent</h1>');
    expect(refused.text).not.toContain('Address not changed');
    // The registration's link plus three resends.
    expect(await readOutbox(server.services, { to: email, kind: 'verify-email' })).toHaveLength(4);
  });

  it('typos and addresses already on the account send nothing and do not use up the hourly mail allowance', async () => {
    const b = new TestBrowser(server.url);
    const { email, username } = await register(b);
    const userId = (await server.services.accounts.findByUsername(username))!.id;
    await b.get(ROUTES.manageAccount);
    const add = (address: string) => b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: address });
    // Before the fix each of these was counted: the third valid address below got 429 after two typos.
    for (const typo of [`${username}@example`, `${username} example.org`, '', email, email.toUpperCase()]) {
      const refused = await add(typo);
      expect(refused.status, typo).toBeGreaterThanOrEqual(400);
      expect(refused.status, typo).toBeLessThan(429);
    }
    const [primary] = await server.services.emails.list(userId);
    await server.services.emails.markVerified(userId, primary!.email);
    // Resending to an address already verified sends nothing either.
    expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'resend', [FIELDS.emailId]: String(primary!.id) })).status).toBe(409);
    for (let i = 0; i < 3; i++) expect((await add(`${username}.${i}@example.org`)).status).toBe(303);
    const refused = await add(`${username}.3@example.org`);
    expect(refused.status).toBe(429);
    expect(refused.text).toMatch(/No e-mail sent\. Too many verification e-mails/);
    expect(refused.text).toContain('<h1>Address not added</h1>');
    expect(refused.text).not.toContain('Address not changed');
    for (let i = 0; i < 3; i++) expect(await readOutbox(server.services, { to: `${username}.${i}@example.org`, kind: 'verify-email' })).toHaveLength(1);
    expect(await readOutbox(server.services, { to: `${username}.3@example.org`, kind: 'verify-email' })).toHaveLength(0);
  });
  it('the mailbox’s cap filling between the pre-check and the sending: 429, and the account’s hourly allowance is given back', async () => {
    await server.services.db.deleteFrom('rate_limits').execute();
    const b = new TestBrowser(server.url);
    const { email, username } = await register(b);
    const userId = (await server.services.accounts.findByUsername(username))!.id;
    const [primary] = await server.services.emails.list(userId);
    // Another account holds the same unverified address and asks for links from other networks (as in
    // verification-mail-cap.test.ts), exactly between this request's pre-check and its transaction.
    const other = new TestBrowser(server.url);
    const { username: otherName } = await register(other);
    const otherId = (await server.services.accounts.findByUsername(otherName))!.id;
    const network = (n: number) => ({ ip: `198.18.${n}.9`, userAgent: null });
    const emails = server.services.emails;
    const checkMailable = emails.checkMailable;
    let raced = 0;
    emails.checkMailable = async (...args) => {
      await checkMailable.apply(emails, args);
      const added = await emails.add(otherId, email, network(0));
      for (let n = 1; (await emails.verificationMailWait(email, '127.0.0.1')) === 0; n++) await emails.resend(otherId, added.id, network(n));
      raced++;
    };
    await b.get(ROUTES.manageAccount);
    let refused;
    try {
      refused = await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'resend', [FIELDS.emailId]: String(primary!.id) });
    } finally {
      emails.checkMailable = checkMailable;
    }
    expect(raced).toBe(1);
    expect(refused.status).toBe(429);
    expect(refused.text).toContain('No e-mail sent: this address has been sent several verification e-mails recently');
    // The registration's link only: the refused resend mailed nothing (the other account's went to its own row).
    expect((await server.services.emails.list(userId))[0]!.verifySentAt).toBe(primary!.verifySentAt);

    // The mailbox's window over (its counters only): the account still has all 3 of the hour's mails.
    await server.services.db.deleteFrom('rate_limits').where('key', 'like', 'request:verification-resend:recipient%').execute();
    const add = (address: string) => b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: address });
    for (let i = 0; i < 3; i++) expect((await add(`${username}.${i}@example.org`)).status).toBe(303);
    const fourth = await add(`${username}.3@example.org`);
    expect(fourth.status).toBe(429);
    expect(fourth.text).toMatch(/No e-mail sent\. Too many verification e-mails for this account/);
  });

  it('adding an address: a non-ASCII part before the @ is refused on the field; one mailbox in another spelling is already there', async () => {
    const b = new TestBrowser(server.url);
    const { username } = await register(b);
    const userId = (await server.services.accounts.findByUsername(username))!.id;
    await b.get(ROUTES.manageAccount);
    const add = (address: string) => b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: address });
    const addresses = async () => (await server.services.emails.list(userId)).map((address) => address.email);
    for (const typed of [`j\u00F6rg.${username}@example.org`, `jo\u0308rg.${username}@example.org`]) {
      const refused = await add(typed);
      expect(refused.status, typed).toBe(400);
      expect(refused.text).toMatch(/Use an address whose part before the @ has only ASCII characters/);
      expect(refused.text).toMatch(/aria-invalid="true"/);
    }
    expect(await addresses()).toEqual([`${username}@example.org`]);

    // An internationalised domain is added in its ASCII form, and mailed there. (The other tests of this file
    // mailed from the same address, 10 an hour: start this hour afresh.)
    await server.services.db.deleteFrom('rate_limits').execute();
    const ascii = `two.${username}@xn--exmple-cua.org`;
    expect((await add(`two.${username}@exämple.org`)).status).toBe(303);
    expect(await addresses()).toContain(ascii);
    expect(await readOutbox(server.services, { to: ascii, kind: 'verify-email' })).toHaveLength(1);
    expect((await b.get(ROUTES.manageAccount)).text).toContain(`We sent a verification link to ${ascii}.`);
    // The same mailbox typed another way (case, decomposed accent, the ASCII form itself) is already on the account.
    for (const typed of [`TWO.${username}@EXA\u0308MPLE.ORG`, ascii]) {
      const again = await add(typed);
      expect(again.status, typed).toBe(409);
      expect(again.text).toContain('This address is already on your account.');
    }
    expect((await addresses()).filter((address) => address.startsWith('two.'))).toEqual([ascii]);
  });

  it('adding an address asks for the password outside the 5-minute window: a stolen session alone cannot add one', async () => {
    const b = new TestBrowser(server.url);
    const { username, email } = await register(b);
    const userId = (await server.services.accounts.findByUsername(username))!.id;
    const stale = () => expireReauthWindow(server.services.db, userId);
    await stale();
    const page = await b.get(ROUTES.manageAccount);
    expect(page.text).toContain('so adding an e-mail address needs your password');
    const address = `${username}.second@example.org`;
    const add = (password?: string) =>
      b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: address, ...(password === undefined ? {} : { [FIELDS.password]: password }) });

    // No password (the page was loaded inside the window): the form asks for it, the address kept; nothing added or mailed.
    const asked = await add();
    expect(asked.status).toBe(200);
    expect(asked.text).toContain('id="add-email-password"');
    expect(asked.text).toContain(`value="${address}"`);
    // Focus lands on the field that appeared (its hint says why), not on the heading of a page with no error.
    expect(asked.text).toMatch(/<input id="add-email-password"[^>]*\bautofocus\b/);
    const wrong = await add('not the password');
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('That password is not correct.');
    expect((await server.services.emails.list(userId)).map((entry) => entry.email)).not.toContain(address);
    expect(await readOutbox(server.services, { to: address, kind: 'verify-email' })).toHaveLength(0);

    // The right password with an address refused (its own primary): the form comes back without the
    // password field, whose hint would say the password was last confirmed "more than 5 minutes ago".
    const taken = await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: email, [FIELDS.password]: PASSWORD });
    expect(taken.status).toBeGreaterThanOrEqual(400);
    expect(taken.text).not.toContain('id="add-email-password"');
    await stale();

    // The other tests of this file mailed from the same address (10 an hour): start this hour afresh.
    await server.services.db.deleteFrom('rate_limits').execute();
    expect((await add(PASSWORD)).status).toBe(303);
    expect((await server.services.emails.list(userId)).map((entry) => entry.email)).toContain(address);
    expect(await readOutbox(server.services, { to: address, kind: 'verify-email' })).toHaveLength(1);
  });

  it('removing a verified address asks for the password outside the 5-minute window, as “make primary” does; an unverified one (a typo) does not', async () => {
    const b = new TestBrowser(server.url);
    const { username, email } = await register(b);
    await b.get(await verifyLink(email));
    const userId = (await server.services.accounts.findByUsername(username))!.id;
    // The other tests of this file mailed from the same address (10 an hour): start this hour afresh.
    await server.services.db.deleteFrom('rate_limits').execute();
    await b.get(ROUTES.manageAccount);
    const second = `second.${username}@example.org`;
    const typo = `typo.${username}@example.orgg`;
    for (const address of [second, typo]) {
      expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: address, [FIELDS.password]: PASSWORD })).status).toBe(303);
    }
    await b.get(await verifyLink(second));
    const idOf = async (address: string) => String((await server.services.emails.list(userId)).find((entry) => entry.email === address)!.id);
    const listed = async () => (await server.services.emails.list(userId)).map((entry) => entry.email);
    const secondId = await idOf(second);
    // A session last authenticated 6 minutes ago (a stolen one, say).
    const stale = () => expireReauthWindow(server.services.db, userId);
    await stale();
    await b.get(ROUTES.manageAccount);
    const remove = (id: string, password?: string) =>
      b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'remove', [FIELDS.emailId]: id, ...(password === undefined ? {} : { [FIELDS.password]: password }) });

    // No password: the confirmation page, the step itself (no error); nothing removed, no one told.
    const asked = await remove(secondId);
    expect(asked.status).toBe(200);
    expect(asked.text).toContain(`<h1>Remove <bdi>${second}</bdi> from your account?</h1>`);
    expect(asked.text).toContain('so removing a verified address needs your password');
    expect(asked.text).toContain(`name="${FIELDS.emailAction}" value="remove"`);
    expect(asked.text).not.toContain('role="alert"');
    const wrong = await remove(secondId, 'not the password');
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('That password is not correct.');
    expect(await listed()).toContain(second);
    expect(await readOutbox(server.services, { to: email, kind: 'notice:email-removed' })).toHaveLength(0);

    // An unverified address (a typo being undone) is removed without the password, as before.
    expect((await remove(await idOf(typo))).status).toBe(303);
    expect(await listed()).not.toContain(typo);

    // An address verified since the page showed it unverified asks for the password too …
    const late = `late.${username}@example.org`;
    await server.services.emails.add(userId, late, { ip: null, userAgent: null });
    const lateId = await idOf(late);
    await server.services.emails.markVerified(userId, late);
    expect((await remove(lateId)).status).toBe(200);
    // … and, verified between the route's reading and the removal, the service refuses it rather than remove it unasked.
    await expect(server.services.emails.remove(userId, Number(lateId), { ip: null, userAgent: null }, { unverifiedOnly: true })).rejects.toMatchObject({
      status: 409,
      message: 'This address was verified meanwhile, and removing a verified address needs your password. Reload the account page and try again.',
    });
    expect(await listed()).toContain(late);

    // The right password: removed, and the primary address told.
    expect((await remove(secondId, PASSWORD)).status).toBe(303);
    expect(await listed()).not.toContain(second);
    expect(await readOutbox(server.services, { to: email, kind: 'notice:email-removed' })).toHaveLength(1);
    // The password just confirmed opened the window again: the next verified address goes without it, as for “make primary”.
    expect((await remove(lateId)).status).toBe(303);
    expect(await listed()).toEqual([email]);
  });

  describe('what the address list says of a link, and where a withdrawn verification leaves its old link', () => {
    /** Register `email` in a new browser; its account id. */
    const registerWith = async (b: TestBrowser, email: string) => {
      const username = uniqueName('e');
      expect((await submitRegistration(b, { username, email })).status).toBe(303);
      return (await server.services.accounts.findByUsername(username))!.id;
    };
    const row = (userId: string) => server.services.db.updateTable('user_emails').where('user_id', '=', userId);

    it('a link whose 24 hours are over is said to have expired, with “Resend link”; never “open the link we sent”', async () => {
      const b = new TestBrowser(server.url);
      const { email, username } = await register(b);
      const userId = (await server.services.accounts.findByUsername(username))!.id;
      const live = await b.get(ROUTES.manageAccount);
      expect(live.text).toContain(`Open the link we sent to <bdi>${email}</bdi> while logged in.`);
      expect(live.text).not.toContain('has expired');
      // Sent exactly 24 hours ago: the moment the link stops working (services/emails.ts verify).
      await row(userId)
        .set({ verify_sent_at: Date.now() - EMAIL_VERIFY_TTL_MS })
        .execute();
      const expired = await b.get(ROUTES.manageAccount);
      expect(expired.text).toContain(
        `The link we sent to <bdi>${email}</bdi> has expired (links work for 24 hours): use “Resend link” below, then open the new link while logged in.`,
      );
      expect(expired.text).not.toContain('Open the link we sent');
      expect(expired.text).toMatch(/· link sent \d{4}-\d\d-\d\d \d\d:\d\d UTC, expired/);
      expect(expired.text).toContain(`aria-label="Resend link: ${email}"`);
    });

    it('verified here, withdrawn (migration 010) and verified by another account: said so, no link offered, the old link says it truly', async () => {
      const email = `${uniqueName('shared')}@example.org`;
      const ann = new TestBrowser(server.url);
      const annId = await registerWith(ann, email);
      const annLink = await verifyLink(email);
      expect((await ann.get(annLink)).status).toBe(303);
      // As migration 010 leaves the account that lost: unverified, its send time kept, no nonce (the link was used).
      await row(annId).set({ verified_at: null }).execute();
      const bea = new TestBrowser(server.url);
      const beaId = await registerWith(bea, email);
      await server.services.emails.markVerified(beaId, email);

      const page = await ann.get(ROUTES.manageAccount);
      expect(page.text).toContain(
        `<bdi>${email}</bdi> was verified by another account as well, and an address can belong to one account only, so its verification here was withdrawn (your security history says when). Add another address, verify it and make it your primary address.`,
      );
      expect(page.text).toContain('· verified by another account');
      expect(page.text).not.toContain('Open the link we sent');
      // No link offered: it could only be refused.
      expect(page.text).not.toContain(`aria-label="Resend link: ${email}"`);
      expect(page.text).not.toContain(`aria-label="Send link: ${email}"`);

      const landing = await ann.get(annLink);
      expect(landing.status).toBe(409);
      expect(landing.text).toContain('<h1>Address verified by another account</h1>');
      expect(landing.text).toContain('This address was verified on your account, but another account has verified it too');
      expect(landing.text).not.toContain('newer');

      // An account that merely registered the same address (never proved it) is told nothing of the other account.
      const cid = new TestBrowser(server.url);
      await registerWith(cid, email);
      const cidPage = await cid.get(ROUTES.manageAccount);
      expect(cidPage.text).toContain(`Open the link we sent to <bdi>${email}</bdi> while logged in.`);
      expect(cidPage.text).not.toContain('another account');
      expect(cidPage.text).toContain(`aria-label="Resend link: ${email}"`);
    });

    it('“Resend link” posted anyway (an old page, a script) for an address verified by another account: 409 in the page’s words, nothing mailed or counted; a mere registrant is told nothing', async () => {
      await server.services.db.deleteFrom('rate_limits').execute();
      const email = `${uniqueName('shared')}@example.org`;
      const ann = new TestBrowser(server.url);
      const annId = await registerWith(ann, email);
      expect((await ann.get(await verifyLink(email))).status).toBe(303);
      await row(annId).set({ verified_at: null }).execute();
      // An account that merely registered the address before the other account verified it.
      const cid = new TestBrowser(server.url);
      const cidId = await registerWith(cid, email);
      const bea = new TestBrowser(server.url);
      const beaId = await registerWith(bea, email);
      await server.services.emails.markVerified(beaId, email);
      const mailsBefore = (await readOutbox(server.services, { to: email, kind: 'verify-email' })).length;

      const [annAddress] = await server.services.emails.list(annId);
      await ann.get(ROUTES.manageAccount);
      // More than the hour's 3: were any of them counted, the adds below would be refused.
      for (let i = 0; i < 4; i++) {
        const refused = await ann.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'resend', [FIELDS.emailId]: String(annAddress!.id) });
        expect(refused.status).toBe(409);
        expect(refused.text).toContain('<h1>No link sent</h1>');
        expect(refused.text).toContain(
          'This address was verified by another account as well, and an address can belong to one account only, so its verification here was withdrawn (your security history says when).',
        );
      }
      // The service refuses on its own too (its transaction checks again), changing nothing.
      await expect(server.services.emails.resend(annId, annAddress!.id, { ip: null, userAgent: null })).rejects.toMatchObject({ status: 409 });
      expect((await server.services.emails.list(annId))[0]!.verifySentAt).toBe(annAddress!.verifySentAt);
      expect(await readOutbox(server.services, { to: email, kind: 'verify-email' })).toHaveLength(mailsBefore);
      for (let i = 0; i < 3; i++) {
        expect((await ann.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: `more.${i}.${email}` })).status).toBe(303);
      }

      // The registrant never proved the address: its resend goes ahead as for any address, so no account can use
      // "Resend link" to learn whether a stranger's address is verified somewhere (its link says so to the mailbox only).
      const [cidAddress] = await server.services.emails.list(cidId);
      await cid.get(ROUTES.manageAccount);
      const sent = await cid.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'resend', [FIELDS.emailId]: String(cidAddress!.id) });
      expect(sent.status).toBe(303);
      expect(await readOutbox(server.services, { to: email, kind: 'verify-email' })).toHaveLength(mailsBefore + 1);
    });

    it('verified here and withdrawn, the address free again: “Resend link” is offered, and the old link no longer works without claiming a newer one', async () => {
      const b = new TestBrowser(server.url);
      const { email, username } = await register(b);
      const userId = (await server.services.accounts.findByUsername(username))!.id;
      const link = await verifyLink(email);
      expect((await b.get(link)).status).toBe(303);
      await row(userId).set({ verified_at: null }).execute();

      const page = await b.get(ROUTES.manageAccount);
      expect(page.text).toContain(
        `The verification of <bdi>${email}</bdi> was withdrawn (your security history says when): use “Resend link” below, then open the new link while logged in.`,
      );
      expect(page.text).toContain('· verification withdrawn');
      expect(page.text).not.toContain('Open the link we sent');
      expect(page.text).toContain(`aria-label="Resend link: ${email}"`);

      const landing = await b.get(link);
      expect(landing.status).toBe(410);
      expect(landing.text).toContain('<h1>This link no longer works</h1>');
      expect(landing.text).toContain('and that verification was withdrawn later');
      expect(landing.text).not.toContain('newer');
      expect(landing.text).not.toContain('already verified');
    });
  });
});
