import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { softAuthenticator, type SoftAuthenticator } from '@latchkey/test/soft-authenticator';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { DEFAULT_MAIL_DELIVERY, DEFAULT_RATE_LIMITS, testConfig } from '../../config.js';
import { createTestDatabaseUrl } from '../../db/test-database.js';
import { startServer, type RunningServer } from '../../main.js';
import type { TestBrowser } from '../../testing/browser.js';
import { codeFor, codesOnPage, enableTotpThrough, firefoxBrowserFrom, PASSWORD, submitRegistration, uniqueName } from '../../testing/http-harness.js';
import { ACCOUNT_ROUTES, DELETE_ACCOUNT_FIELDS } from '../../views/account-page.js';
import { CONFIRM_FIELD } from '../../views/layout.js';
import { USERNAME_OR_EMAIL } from '../../views/password-routes.js';
import { EMAIL_VERIFY_TTL_MS } from '../emails.js';
import { PASSWORD_RESET_TTL_MS } from '../password-resets.js';

/**
 * Every kind of mail the server sends, as the maintainer who receives it reads it: each triggered through its
 * real flow (the pages, as a browser posts them; the admin CLI's service for its commands), delivered over SMTP
 * to a server in this process (`smtp-server`), parsed as a mail client parses it (`mailparser`), and its links
 * followed. The content of each notice is tested closely in security-notices.test.ts and mail.test.ts; this
 * file checks what holds for every message, and the flows behind them.
 */

const ORIGIN = 'https://index.example.org';
const SITE = 'Example Index';
const SUPPORT = 'security@index.example.org';
/** Where the browsers of these tests come from (X-Forwarded-For, one trusted proxy), as the history shows it. */
const OWNER_IP = '203.0.113.7';
const OTHER_IP = '198.51.100.23';
const NEW_PASSWORD = 'a brand new long passphrase';

/** Every kind, and its subject: one subject per kind, each saying what happened. */
const SUBJECTS = {
  'verify-email': `${SITE}: verify your e-mail address`,
  'password-reset': `${SITE}: reset your password`,
  'password-reset-not-verified': `${SITE}: no password reset link sent`,
  'notice:email-verified': `${SITE}: e-mail address added to your account`,
  'notice:primary-email-changed': `${SITE}: your primary e-mail address changed`,
  'notice:email-removed': `${SITE}: e-mail address removed from your account`,
  'notice:method-added': `${SITE}: two-factor method added`,
  'notice:method-removed': `${SITE}: two-factor method removed`,
  'notice:two-factor-off': `${SITE}: two-factor authentication turned off`,
  'notice:recovery-codes-generated': `${SITE}: new recovery codes generated`,
  'notice:recovery-code-used': `${SITE}: a recovery code was used`,
  'notice:password-changed': `${SITE}: your password was changed`,
  'notice:password-reset': `${SITE}: your password was reset`,
  'notice:second-factor-failure': `${SITE}: failed login attempt on your account`,
  'notice:second-factor-paused': `${SITE}: two-factor login paused on your account`,
  'notice:security-key-count': `${SITE}: a security key of your account may have been copied`,
  'notice:totp-guess-budget-spent': `${SITE}: authentication-app codes blocked on your account`,
  'notice:admin-two-factor-reset': `${SITE}: two-factor authentication reset by an administrator`,
  'notice:account-deleted': `${SITE}: your account was deleted`,
} as const;
type Kind = keyof typeof SUBJECTS;

/** One message as the SMTP server received it. */
interface Mail {
  raw: string;
  /** The header section, folded lines unfolded. */
  headers: string;
  envelopeTo: string[];
  subject: string;
  from: { address: string; name: string } | undefined;
  to: string[];
  date: Date | undefined;
  messageId: string | undefined;
  text: string;
  html: string;
}

async function startCatcher() {
  const received: Mail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    // nodemailer would upgrade to TLS when offered, and refuse smtp-server's self-signed certificate.
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then((parsed) => {
          const from = parsed.from?.value[0];
          const to = (Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).flatMap((list) => list.value.map((item) => item.address ?? ''));
          received.push({
            raw,
            headers: raw.slice(0, raw.search(/\r?\n\r?\n/)).replace(/\r?\n[ \t]+/g, ' '),
            envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            subject: parsed.subject ?? '',
            from: from ? { address: from.address ?? '', name: from.name } : undefined,
            to,
            date: parsed.date,
            messageId: parsed.messageId,
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
          });
          callback();
        }, callback);
      });
    },
  });
  smtp.on('error', () => undefined);
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}

/**
 * The paragraphs of an HTML part as a reader sees them: tags dropped, entities decoded. A `<bdi>` is written as the
 * isolate the text part has in its place (FSI … PDI), so both parts must isolate the same values to say the same.
 */
function htmlParagraphs(html: string): string[] {
  return [...html.matchAll(/<p\b[^>]*>([\s\S]*?)<\/p>/g)].map((match) =>
    match[1]!
      .replace(/<bdi>/g, '\u2068')
      .replace(/<\/bdi>/g, '\u2069')
      .replace(/<[^>]*>/g, '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;|&#x27;/g, "'")
      .replace(/&amp;/g, '&'),
  );
}

const LINK = /https?:\/\/[^\s<>"”]+/g;

/** Runs `body` with this process's clock `ms` ahead (the server reads time through Date.now), then puts it back. */
async function later<T>(ms: number, body: () => Promise<T>): Promise<T> {
  const realNow = Date.now;
  Date.now = () => realNow() + ms;
  try {
    return await body();
  } finally {
    Date.now = realNow;
  }
}

describe('every mail the server sends, as its recipient reads it', () => {
  let server: RunningServer;
  let catcher: Awaited<ReturnType<typeof startCatcher>>;
  let drop: () => Promise<void>;
  /** Each message taken by {@link expectMail}, with the kind the flow made it for. */
  const delivered: { kind: Kind; mail: Mail }[] = [];
  /** What must never be in any message: passwords, TOTP secrets, recovery codes, session cookies. */
  const secrets = new Set<string>([PASSWORD, NEW_PASSWORD]);
  const startedAt = Date.now();

  beforeAll(async () => {
    catcher = await startCatcher();
    const database = await createTestDatabaseUrl('sqlite');
    drop = database.drop;
    server = await startServer(
      testConfig({
        databaseUrl: database.databaseUrl,
        origin: ORIGIN,
        rpId: 'index.example.org',
        rpName: SITE,
        trustProxy: 1,
        // Per-account limits as shipped; the per-address ones raised, as every "attacker" here shares one address.
        rateLimits: { ...DEFAULT_RATE_LIMITS, passwordPerIp: { max: 10_000, windowMs: 900_000 }, secondFactorPerIp: { max: 10_000, windowMs: 900_000 } },
        supportContact: { href: `mailto:${SUPPORT}`, label: SUPPORT },
        // As config.ts builds it when LATCHKEY_MAIL_FROM is unset.
        mail: { ...DEFAULT_MAIL_DELIVERY, from: `"${SITE}" <no-reply@index.example.org>`, transport: { kind: 'smtp', url: catcher.url }, pollMs: 50 },
      }),
    );
  });
  afterAll(async () => {
    await server?.close();
    await drop?.();
    await catcher?.close();
  });

  /** Messages {@link expectMail} has taken. */
  const taken = new Set<Mail>();
  const untakenFor = (to: string) => catcher.received.filter((mail) => !taken.has(mail) && mail.envelopeTo.includes(to));

  /** Waits for the next `kinds.length` messages to `to` (in any order: one transaction may queue several), one of each kind. */
  async function expectMail(to: string, ...kinds: Kind[]): Promise<Mail[]> {
    await expect.poll(() => untakenFor(to).length, { timeout: 10_000, interval: 25 }).toBeGreaterThanOrEqual(kinds.length);
    const batch = untakenFor(to).slice(0, kinds.length);
    for (const mail of batch) taken.add(mail);
    expect(batch.map((mail) => mail.subject).sort()).toEqual(kinds.map((kind) => SUBJECTS[kind]).sort());
    return kinds.map((kind) => {
      const mail = batch.find((candidate) => candidate.subject === SUBJECTS[kind])!;
      expect(mail.envelopeTo, kind).toEqual([to]);
      delivered.push({ kind, mail });
      return mail;
    });
  }

  /** Nothing else arrives for `to` (the sender polls every 50 ms). */
  async function expectNoMoreMail(to: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(untakenFor(to).map((mail) => mail.subject)).toEqual([]);
  }

  const browser = (ip = OWNER_IP) => firefoxBrowserFrom(server, ip);
  const linkOf = (mail: Mail, path: string) => {
    const link = (mail.text.match(LINK) ?? []).find((url) => new URL(url).pathname === path);
    expect(link, `a link to ${path}`).toBeDefined();
    return link!.slice(ORIGIN.length);
  };
  const remember = (b: TestBrowser) => {
    // Session and device tokens (not a flag such as a `1`).
    for (const value of b.cookies.values()) if (value.length >= 16) secrets.add(value);
  };
  const userId = async (username: string) => (await server.services.accounts.findByUsername(username))!.id;
  const addressId = async (username: string, email: string) =>
    (await server.services.emails.list(await userId(username))).find((address) => address.email === email)!.id;

  async function register(b: TestBrowser, username: string, email: string): Promise<Mail> {
    const response = await submitRegistration(b, { username, email });
    expect(response.status).toBe(303);
    remember(b);
    const [mail] = await expectMail(email, 'verify-email');
    return mail!;
  }

  async function registerVerified(b: TestBrowser, username: string, email: string): Promise<void> {
    const mail = await register(b, username, email);
    expect((await b.get(linkOf(mail, ROUTES.verifyEmail))).status).toBe(303);
  }

  async function enableTotp(b: TestBrowser, email: string): Promise<string> {
    const { secret, codes } = await enableTotpThrough(b);
    for (const value of [secret, secret.replace(/(.{4})/g, '$1 ').trim(), ...codes, ...codes.map((code) => code.replace(/(.{4})/g, '$1 ').trim())]) {
      secrets.add(value);
    }
    await expectMail(email, 'notice:recovery-codes-generated', 'notice:method-added');
    return secret;
  }

  const postJson = (b: TestBrowser, path: string, body: unknown) =>
    b.request('POST', path, JSON.stringify(body), { 'content-type': 'application/json', [FIELDS.csrfHeader]: b.csrfToken });

  async function addKey(b: TestBrowser, key: SoftAuthenticator, label: string) {
    expect((await b.get(ROUTES.webauthnProvision)).status).toBe(200);
    const options = await postJson(b, ROUTES.webauthnProvisionOptions, { label });
    expect(options.status).toBe(200);
    const credential = key.createRegistrationResponse(JSON.parse(options.text) as PublicKeyCredentialCreationOptionsJSON, { origin: ORIGIN });
    return postJson(b, ROUTES.webauthnProvisionValidate, { credential, label });
  }

  /** Logs in `b` with the password; returns the two-factor page's path (with its token). */
  async function passwordStep(b: TestBrowser, username: string, password: string): Promise<string> {
    await b.get(ROUTES.login);
    const response = await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: password });
    expect(response.status).toBe(303);
    expect(response.location).toMatch(/^\/account\/two-factor\/\?token=/);
    await b.get(response.location!);
    return response.location!;
  }

  /** A 6-digit code that is not the current one, nor one of its neighbours the server also accepts. */
  const wrongCode = (secret: string) => {
    const near = new Set([-1, 0, 1].map((steps) => codeFor(secret, steps)));
    for (let n = 0; ; n++) {
      const code = String(n).padStart(6, '0');
      if (!near.has(code)) return code;
    }
  };

  it('the address flows: verification links, an address verified and removed, the primary address changed', async () => {
    const b = browser();
    const username = uniqueName('alice');
    const home = `${username}@example.org`;
    const work = `${username}.work@example.net`;
    const verify = await register(b, username, home);

    // Opened logged out (another browser), the link goes through the login page and comes back to finish.
    const elsewhere = browser();
    const opened = await elsewhere.get(linkOf(verify, ROUTES.verifyEmail));
    expect(opened.status).toBe(303);
    const login = new URL(opened.location!, ORIGIN);
    expect(login.pathname).toBe(ROUTES.login);
    expect(login.searchParams.get(FIELDS.next)).toBe(linkOf(verify, ROUTES.verifyEmail));
    await elsewhere.get(opened.location!);
    const loggedIn = await elsewhere.post(ROUTES.login, {
      [FIELDS.username]: username,
      [FIELDS.password]: PASSWORD,
      [FIELDS.next]: login.searchParams.get(FIELDS.next)!,
    });
    expect(loggedIn.location).toBe(linkOf(verify, ROUTES.verifyEmail));
    remember(elsewhere);
    expect((await elsewhere.get(loggedIn.location!)).status).toBe(303);
    expect(await server.services.emails.hasVerifiedPrimary(await userId(username))).toBe(true);
    // Once, as it says.
    expect((await elsewhere.get(loggedIn.location!)).status).toBe(409);

    await b.get(ROUTES.manageAccount);
    expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: work, [FIELDS.password]: PASSWORD })).status).toBe(303);
    const [verifyWork] = await expectMail(work, 'verify-email');
    expect((await b.get(linkOf(verifyWork!, ROUTES.verifyEmail))).status).toBe(303);
    const [added] = await expectMail(home, 'notice:email-verified');
    expect(added!.text).toContain(`The address ${work} was verified and added to your account “${username}”.`);

    await b.get(ROUTES.manageAccount);
    const makePrimary = { [FIELDS.emailAction]: 'make_primary', [FIELDS.emailId]: String(await addressId(username, work)), [FIELDS.password]: PASSWORD };
    expect((await b.post(ROUTES.manageEmail, makePrimary)).status).toBe(303);
    await expectMail(home, 'notice:primary-email-changed');

    await b.get(ROUTES.manageAccount);
    expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'remove', [FIELDS.emailId]: String(await addressId(username, home)) })).status).toBe(303);
    await expectMail(work, 'notice:email-removed');
  });

  it('the factor flows: methods added and removed, recovery codes generated and used, a copied key, failures and the pause', async () => {
    const b = browser();
    const username = uniqueName('bob');
    const email = `${username}@example.org`;
    await registerVerified(b, username, email);
    const secret = await enableTotp(b, email);
    const key = softAuthenticator();
    expect((await addKey(b, key, 'Blue key')).status).toBe(200);
    await expectMail(email, 'notice:method-added');

    await b.get(ROUTES.manageAccount);
    const generated = await b.post(ROUTES.recoveryCodesGenerate, { [CONFIRM_FIELD]: 'on' });
    expect(generated.status).toBe(303);
    const codes = codesOnPage((await b.get(generated.location!)).text);
    for (const code of codes) secrets.add(code);
    const [newCodes] = await expectMail(email, 'notice:recovery-codes-generated');
    expect(newCodes!.text).toContain('Every older recovery code stopped working.');

    // A recovery code at login.
    const withCode = browser();
    const step = await passwordStep(withCode, username, PASSWORD);
    const query = step.slice(step.indexOf('?'));
    await withCode.get(`${ROUTES.recoveryCode}${query}`);
    expect((await withCode.post(`${ROUTES.recoveryCode}${query}`, { [FIELDS.recoveryCodeValue]: codes[0]! })).status).toBe(303);
    remember(withCode);
    const [used] = await expectMail(email, 'notice:recovery-code-used');
    expect(used!.text).toContain('7 recovery codes are left.');

    // A key answering with a use count lower than the one stored.
    const keyLogin = async (signCount: number) => {
      const k = browser(OTHER_IP);
      const path = await passwordStep(k, username, PASSWORD);
      const keyQuery = path.slice(path.indexOf('?'));
      const options = await postJson(k, `${ROUTES.webauthnAuthenticateOptions}${keyQuery}`, {});
      const credential = key.createAuthenticationResponse(JSON.parse(options.text) as PublicKeyCredentialRequestOptionsJSON, { origin: ORIGIN, signCount });
      return postJson(k, `${ROUTES.webauthnAuthenticateValidate}${keyQuery}`, { credential });
    };
    expect((await keyLogin(10)).status).toBe(200);
    expect((await keyLogin(4)).status).toBe(401);
    const [copied] = await expectMail(email, 'notice:security-key-count');
    expect(copied!.text).toContain(`from the IP address ${OTHER_IP} using Firefox 128 on Windows.`);

    // Someone with the password, without the factor: one failure mailed, then the pause; a burst is not 30 mails.
    const attacker = browser(OTHER_IP);
    const twoFactor = await passwordStep(attacker, username, PASSWORD);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await attacker.post(twoFactor, { [FIELDS.totpValue]: wrongCode(secret) })).status);
    // The refused key counted as one failure: four more wrong codes, and the rest is refused unexamined.
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(4)).toEqual(Array(26).fill(429));
    const [failure, paused] = await expectMail(email, 'notice:second-factor-failure', 'notice:second-factor-paused');
    expect(failure!.text).toContain('then failed the second step (an authentication app).');
    expect(paused!.text).toContain(`Reset your password:\n${ORIGIN}${ROUTES.requestPasswordReset}`);
    await expectNoMoreMail(email);

    // Removing one factor, then the last.
    expect((await b.get(ROUTES.webauthnProvision)).status).toBe(200);
    expect((await b.post(ROUTES.webauthnProvisionDelete, { [FIELDS.label]: 'Blue key', [FIELDS.password]: PASSWORD })).status).toBe(303);
    await expectMail(email, 'notice:method-removed');
    await b.get(ROUTES.manageAccount);
    expect((await b.post(ROUTES.totpProvisionRemove, { [CONFIRM_FIELD]: 'on', [FIELDS.password]: PASSWORD })).status).toBe(303);
    const [off] = await expectMail(email, 'notice:two-factor-off');
    expect(off!.text).toContain('Logging in asks for the password alone.');
  });

  it('the password flows: changed, a reset link mailed and followed (once), reset by an administrator, the account deleted', async () => {
    const b = browser();
    const username = uniqueName('carol');
    const email = `${username}@example.org`;
    await registerVerified(b, username, email);
    await enableTotp(b, email);

    await b.get(ROUTES.changePassword);
    const changed = await b.post(ROUTES.changePassword, {
      [FIELDS.password]: PASSWORD,
      [FIELDS.newPassword]: NEW_PASSWORD,
      [FIELDS.passwordConfirm]: NEW_PASSWORD,
    });
    expect(changed.status).toBe(303);
    await expectMail(email, 'notice:password-changed');

    const stranger = browser(OTHER_IP);
    await stranger.get(ROUTES.requestPasswordReset);
    expect((await stranger.post(ROUTES.requestPasswordReset, { [USERNAME_OR_EMAIL]: username })).status).toBe(200);
    const [reset] = await expectMail(email, 'password-reset');
    const link = linkOf(reset!, ROUTES.resetPassword);
    const form = await stranger.get(link);
    expect(form.status).toBe(200);
    expect(form.text).toContain(`name="${FIELDS.newPassword}"`);
    const finalPassword = `${NEW_PASSWORD} again`;
    secrets.add(finalPassword);
    expect((await stranger.post(link, { [FIELDS.newPassword]: finalPassword, [FIELDS.passwordConfirm]: finalPassword })).status).toBe(303);
    const [notice] = await expectMail(email, 'notice:password-reset');
    expect(notice!.text).toContain('was reset through a link sent to this address');
    // "The link works once."
    expect((await stranger.get(link)).status).toBeGreaterThanOrEqual(400);
    expect(await server.services.accounts.verifyPassword((await server.services.accounts.findByUsername(username))!, finalPassword)).toBe(true);

    await server.services.admin.resetTwoFactor(username, { reason: 'identity checked on a video call', actor: 'ops' });
    const [adminReset] = await expectMail(email, 'notice:admin-two-factor-reset');
    expect(adminReset!.text).not.toContain('identity checked on a video call');

    const owner = browser();
    await owner.get(ROUTES.login);
    expect((await owner.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: finalPassword })).location).toBe(ROUTES.manageAccount);
    remember(owner);
    await owner.get(ROUTES.manageAccount);
    const deleted = await owner.post(ACCOUNT_ROUTES.deleteAccount, { [DELETE_ACCOUNT_FIELDS.username]: username, [FIELDS.password]: finalPassword });
    expect(deleted.status).toBe(303);
    await expectMail(email, 'notice:account-deleted');
  });

  it('an address an administrator verified (`admin verify-email`): the notice says who did it, as the history does', async () => {
    const b = browser();
    const username = uniqueName('dana');
    const email = `${username}@example.org`;
    const other = `${username}@example.net`;
    await registerVerified(b, username, email);
    await b.get(ROUTES.manageAccount);
    expect((await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: other, [FIELDS.password]: PASSWORD })).status).toBe(303);
    await expectMail(other, 'verify-email');
    await server.services.emails.markVerified(await userId(username), other, { actor: 'ops' });
    const [notice] = await expectMail(email, 'notice:email-verified');
    // QA: it said "If this was not you, someone is logged in as you": nobody was, an operator did it.
    expect(notice!.text).toContain(`An administrator of this index verified the address ${other} and added it to your account “${username}”`);
    expect(notice!.text).not.toContain('someone is logged in as you');
    expect(notice!.text).toContain(
      'If you did not ask the administrators of this index for this, remove that address from your account and tell them at once.',
    );
  });

  it('authentication-app codes blocked, on an account with no other way in: the notice does not say "you can still log in"', async () => {
    const b = browser();
    const username = uniqueName('erin');
    const email = `${username}@example.org`;
    await registerVerified(b, username, email);
    const secret = await enableTotp(b, email);
    const id = await userId(username);
    // Set-up: every recovery code spent, and a year's wrong codes but one already tried (as months of guessing leave them).
    await server.services.db.updateTable('recovery_codes').set({ used_at: Date.now() }).where('user_id', '=', id).execute();
    const limit = server.services.totpGuessBudget.limit;
    await server.services.db
      .insertInto('totp_guesses')
      .values(Array.from({ length: limit - 1 }, (_, i) => ({ user_id: id, guessed_at: Date.now() - (i + 1) * 60_000 })))
      .execute();

    const attacker = browser(OTHER_IP);
    const twoFactor = await passwordStep(attacker, username, PASSWORD);
    expect((await attacker.post(twoFactor, { [FIELDS.totpValue]: wrongCode(secret) })).status).toBe(401);
    const [, blocked] = await expectMail(email, 'notice:second-factor-failure', 'notice:totp-guess-budget-spent');
    // QA: it said "Security keys and recovery codes still work, so you can still log in" to an owner with neither,
    // and linked the account page, which is behind the login they can no longer pass.
    expect(blocked!.text).not.toContain('you can still log in');
    expect(blocked!.text).toContain('Your account has no security key and no unused recovery code, so you cannot log in until then');
    expect(blocked!.text).toContain(`Reset your password:\n${ORIGIN}${ROUTES.requestPasswordReset}`);
  });

  it('single-use links expire when their mail says: a verification link after 24 hours, a reset link after one hour', async () => {
    const b = browser();
    const username = uniqueName('finn');
    const email = `${username}@example.org`;
    const verify = await register(b, username, email);
    expect(verify.text).toContain('The link works once, within 24 hours');
    const verifyLink = linkOf(verify, ROUTES.verifyEmail);
    await later(EMAIL_VERIFY_TTL_MS, async () => {
      // A day later the session is over too: logged in again, the link says it expired.
      const nextDay = browser();
      await nextDay.get(ROUTES.login);
      expect((await nextDay.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD })).status).toBe(303);
      remember(nextDay);
      const expired = await nextDay.get(verifyLink);
      expect(expired.status).toBe(410);
      expect(expired.text).toContain('Verification links work for 24 hours.');
    });
    // Until the address is verified, a reset request gets it a notice and no link (it may be a stranger's mailbox).
    const stranger = browser(OTHER_IP);
    await stranger.get(ROUTES.requestPasswordReset);
    await stranger.post(ROUTES.requestPasswordReset, { [USERNAME_OR_EMAIL]: email });
    const [notVerified] = await expectMail(email, 'password-reset-not-verified');
    expect(notVerified!.text).toContain('No link was sent: this address is not verified on the account');
    expect(notVerified!.text).not.toContain(ROUTES.resetPassword);
    expect(notVerified!.text).toContain(`contact them at ${SUPPORT}`);

    expect((await later(EMAIL_VERIFY_TTL_MS - 60_000, () => b.get(verifyLink))).status).toBe(303);

    // A reset link, to an account whose address is verified (finn's last login above is dated a day ahead,
    // and a login after a link was sent takes the link back).
    const other = uniqueName('finn');
    const otherEmail = `${other}@example.org`;
    await registerVerified(browser(), other, otherEmail);
    await stranger.post(ROUTES.requestPasswordReset, { [USERNAME_OR_EMAIL]: otherEmail });
    const [reset] = await expectMail(otherEmail, 'password-reset');
    expect(reset!.text).toContain('The link works once, for one hour.');
    const resetLink = linkOf(reset!, ROUTES.resetPassword);
    expect((await later(PASSWORD_RESET_TTL_MS, () => stranger.get(resetLink))).status).toBeGreaterThanOrEqual(400);
    expect((await later(PASSWORD_RESET_TTL_MS - 60_000, () => stranger.get(resetLink))).status).toBe(200);
  });

  it('throttled notices: after the pause, more failures within the hour mail nothing; after the owner logs in, the next one is mailed', async () => {
    const b = browser();
    const username = uniqueName('gail');
    const email = `${username}@example.org`;
    await registerVerified(b, username, email);
    const secret = await enableTotp(b, email);
    const attacker = browser(OTHER_IP);
    const fail = async (twoFactor: string, times: number) => {
      for (let i = 0; i < times; i++) await attacker.post(twoFactor, { [FIELDS.totpValue]: wrongCode(secret) });
    };
    await fail(await passwordStep(attacker, username, PASSWORD), 6);
    await expectMail(email, 'notice:second-factor-failure', 'notice:second-factor-paused');
    // Twenty minutes on, the pause is over: the same again pauses again, and is not mailed again within the hour.
    await later(20 * 60_000, async () => {
      await fail(await passwordStep(attacker, username, PASSWORD), 6);
      await expectNoMoreMail(email);
    });
    // Forty minutes on (still within the hour), that pause is over too and the owner logs in: the failures are
    // forgotten, and the next one is news again, mailed.
    await later(40 * 60_000, async () => {
      const owner = browser();
      const path = await passwordStep(owner, username, PASSWORD);
      expect((await owner.post(path, { [FIELDS.totpValue]: codeFor(secret, 1) })).status).toBe(303);
      remember(owner);
      await fail(await passwordStep(attacker, username, PASSWORD), 1);
      await expectMail(email, 'notice:second-factor-failure');
    });
  });

  it('user-controlled text (a key label, a User-Agent) is escaped in HTML and stays out of headers', async () => {
    const hostileAgent = `Mozilla/5.0 (Windows NT 10.0) Firefox/128.0 <img src=https://tracker.example/p.gif> "${'A'.repeat(400)}"`;
    const b = browser();
    const request = b.request.bind(b);
    b.request = (method, path, body, headers) => request(method, path, body, { ...headers, 'user-agent': hostileAgent });
    const username = uniqueName('hana');
    const email = `${username}@example.org`;
    await registerVerified(b, username, email);
    await enableTotp(b, email);
    const label = `<script>alert("key")</script> & 'q'`;
    expect((await addKey(b, softAuthenticator(), label)).status).toBe(200);
    const [added] = await expectMail(email, 'notice:method-added');
    // The label in its own bidi isolate: FSI … PDI in the text part, a <bdi> in the HTML part (escaped inside it).
    expect(added!.text).toContain(`The security key “\u2068${label}\u2069” was added`);
    expect(added!.html).toContain("The security key “<bdi>&lt;script>alert(&quot;key&quot;)&lt;/script> &amp; 'q'</bdi>” was added");
    expect(added!.html).not.toMatch(/[\u2066-\u2069]/);
    // The browser as the security history names it, never the header itself.
    expect(added!.text).toContain(`from the IP address ${OWNER_IP} using Firefox 128 on Windows.`);
    for (const part of [added!.text, added!.html, added!.headers]) {
      expect(part).not.toContain('tracker.example');
      expect(part).not.toContain('AAAA');
    }
    // A label with a line break or a bidi override is refused before any key is touched (and so never reaches a mail).
    await b.get(ROUTES.webauthnProvision);
    for (const bad of ['Desk\r\nBcc: evil@example.com', 'Desk \u202Eyek']) {
      expect((await postJson(b, ROUTES.webauthnProvisionOptions, { label: bad })).status).toBe(400);
    }
    await expectNoMoreMail(email);
  });

  it('every message: headers, both parts saying the same, links on LATCHKEY_ORIGIN that work, no secret, the time zone and the contact', async () => {
    const kinds = new Set(delivered.map((entry) => entry.kind));
    expect([...Object.keys(SUBJECTS)].filter((kind) => !kinds.has(kind as Kind))).toEqual([]);
    expect(new Set(Object.values(SUBJECTS)).size).toBe(Object.keys(SUBJECTS).length);
    const messageIds = new Set<string>();
    const links = new Set<string>();
    for (const { kind, mail } of delivered) {
      // Headers: the index's name and no-reply address, one recipient, when it was queued, an id on the index's domain.
      expect(mail.from, kind).toEqual({ address: 'no-reply@index.example.org', name: SITE });
      expect(mail.to, kind).toEqual(mail.envelopeTo);
      expect(mail.date!.getTime(), kind).toBeGreaterThanOrEqual(Math.floor(startedAt / 1000) * 1000);
      expect(mail.date!.getTime(), kind).toBeLessThanOrEqual(Date.now() + 60 * 60_000);
      expect(mail.messageId, kind).toMatch(/^<[0-9a-f-]{36}@index\.example\.org>$/);
      messageIds.add(mail.messageId!);
      expect(mail.headers, kind).toMatch(/^Auto-Submitted: auto-generated$/m);
      expect(mail.headers, kind).toMatch(/^X-Auto-Response-Suppress: All$/m);
      expect(mail.headers, kind).not.toMatch(/^(?:List-Unsubscribe|Bcc|Cc|Reply-To):/im);
      expect(mail.subject, kind).toBe(SUBJECTS[kind]);

      // HTML: nothing fetched when it is opened (no image, stylesheet, script or frame).
      expect(mail.html, kind).not.toMatch(/<(?:img|link|script|iframe|object|embed|style)\b|\bsrc=|url\(|@import/i);
      // Both parts say the same: every paragraph of the text is a paragraph of the HTML, and the other way round
      // (the link paragraph is the button and "Or copy this address" in HTML).
      const [body, signature] = mail.text.split('\n\n-- \n');
      const textParagraphs = body!.split('\n\n');
      const html = htmlParagraphs(mail.html);
      const [action] = textParagraphs.filter((paragraph) => /:\nhttps:\/\//.test(paragraph));
      expect(
        textParagraphs.filter((paragraph) => paragraph !== action && !html.includes(paragraph)),
        kind,
      ).toEqual([]);
      const expectedHtml = [...textParagraphs.filter((paragraph) => paragraph !== action), signature];
      if (action) expectedHtml.push(action.split(':\n')[0]!, `Or copy this address into your browser: ${action.split(':\n')[1]}`);
      expect(
        html.filter((paragraph) => !expectedHtml.includes(paragraph)),
        kind,
      ).toEqual([]);

      // Links: absolute, on LATCHKEY_ORIGIN, the same in both parts; in HTML, otherwise only the support contact.
      const textLinks = (mail.text.match(LINK) ?? []).filter((link) => !link.startsWith('mailto:'));
      const hrefs = [...mail.html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]!.replace(/&amp;/g, '&'));
      expect(
        hrefs.filter((href) => !href.startsWith('mailto:')),
        kind,
      ).toEqual(textLinks);
      expect(
        hrefs.filter((href) => href.startsWith('mailto:') && href !== `mailto:${SUPPORT}`),
        kind,
      ).toEqual([]);
      for (const link of textLinks) {
        expect(link.startsWith(`${ORIGIN}/`), `${kind}: ${link}`).toBe(true);
        links.add(link);
      }

      // No secret: no password, TOTP secret, recovery code or session cookie.
      for (const secret of secrets) {
        expect(mail.text, kind).not.toContain(secret);
        expect(mail.html, kind).not.toContain(secret);
      }

      if (kind.startsWith('notice:')) {
        // When, with its time zone; where from, as the history says it; the way to the administrators last.
        expect(mail.text, kind).toMatch(/This happened on \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT[ .]/);
        expect(textParagraphs.at(-1), kind).toMatch(new RegExp(`administrators of this index.* ${SUPPORT.replace(/\./g, '\\.')}$`));
      }
    }
    expect(messageIds.size).toBe(delivered.length);

    // Every link that is not a single-use token leads where its label says, for someone not logged in too.
    const anonymous = browser();
    for (const link of [...links].filter((url) => !new URL(url).searchParams.has('token'))) {
      const path = link.slice(ORIGIN.length);
      const response = await anonymous.get(path);
      if (path === ROUTES.manageAccount) {
        expect(response.status).toBe(303);
        expect(response.location).toBe(`${ROUTES.login}?${new URLSearchParams({ [FIELDS.next]: path }).toString()}`);
      } else {
        expect(path).toBe(ROUTES.requestPasswordReset);
        expect(response.status).toBe(200);
        expect(response.text).toContain(`name="${USERNAME_OR_EMAIL}"`);
      }
    }
  });
});
