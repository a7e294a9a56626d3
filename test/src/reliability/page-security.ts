/**
 * Session and page security (issue 8, point 5), checked over HTTP against a server child:
 * session fixation, CSRF, cookie flags, CSP/frame headers on every page, open redirects through
 * `next`, and account enumeration through error messages.
 */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { createSessionClient, type SessionClient, type SessionResponse } from '../kit/create-session-client.js';
import type { Deployment } from './harness/deployment.js';
import { passwordStep, seedUser, TEST_PASSWORD, uniqueUsername } from './harness/login-flow.js';
import { securityHeaderProblems } from './harness/security-headers.js';
import { startServerProcess } from './harness/server-process.js';

const SESSION_COOKIE = /^(?:__Host-)?latchkey_session$/;

function sessionCookieValue(client: SessionClient): string | undefined {
  for (const [name, value] of client.cookies) if (SESSION_COOKIE.test(name)) return value;
  return undefined;
}

export interface FixationResult {
  loginFailed: boolean;
  rotatedOnPasswordLogin: boolean;
  rotatedOnSecondFactor: boolean;
  oldIdLoggedIn: boolean;
}

/**
 * An attacker plants a session cookie value in the victim's browser before login (ASVS V3.2.1):
 * after login the browser must hold a different id, and the planted one must not be logged in.
 */
export async function sessionFixation(deployment: Deployment): Promise<FixationResult> {
  const url = deployment.urls()[0]!;
  const plain = await seedUser(deployment.services, { prefix: 'fix' });
  const victim = createSessionClient(url);
  await victim.get(ROUTES.login);
  const planted = sessionCookieValue(victim);
  const login = await victim.submit(ROUTES.login, { [FIELDS.username]: plain.username, [FIELDS.password]: plain.password });
  const afterLogin = sessionCookieValue(victim);

  // The attacker, holding the planted value, tries the account page.
  const attacker = await fetch(new URL(ROUTES.manageAccount, url), { headers: { cookie: `latchkey_session=${planted}` }, redirect: 'manual' });

  const withTotp = await seedUser(deployment.services, { prefix: 'fix2', totp: true });
  const pending = await passwordStep(url, withTotp);
  const beforeSecond = sessionCookieValue(pending.client);
  const { currentTotp } = await import('../kit/current-totp.js');
  const done = await pending.client.post(pending.twoFactorUrl, { [FIELDS.totpValue]: currentTotp(withTotp.totpSecret!) });
  const afterSecond = sessionCookieValue(pending.client);
  return {
    loginFailed: login.status !== 303,
    rotatedOnPasswordLogin: planted !== undefined && afterLogin !== undefined && planted !== afterLogin,
    rotatedOnSecondFactor: done.status === 303 && beforeSecond !== undefined && afterSecond !== undefined && beforeSecond !== afterSecond,
    oldIdLoggedIn: attacker.status === 200,
  };
}

export interface CsrfCase {
  name: string;
  status: number;
  refused: boolean;
}

/** State-changing requests without a valid token must be refused (403) and change nothing. */
export async function csrfRefusals(deployment: Deployment): Promise<CsrfCase[]> {
  const url = deployment.urls()[0]!;
  const user = await seedUser(deployment.services, { prefix: 'csrf', totp: true, recoveryCodes: true });
  const cases: CsrfCase[] = [];
  const record = (name: string, response: { status: number }) => cases.push({ name, status: response.status, refused: response.status === 403 });

  // Login CSRF (forcing the victim into the attacker's account): the login form needs the token too.
  const anonymous = createSessionClient(url);
  await anonymous.get(ROUTES.login);
  record(
    'login without token',
    await anonymous.post(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: TEST_PASSWORD, [FIELDS.csrfToken]: '' }),
  );
  record(
    'login with forged token',
    await anonymous.post(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: TEST_PASSWORD, [FIELDS.csrfToken]: 'A'.repeat(43) }),
  );
  const other = createSessionClient(url);
  await other.get(ROUTES.login);
  record(
    "login with another visitor's token",
    await anonymous.post(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: TEST_PASSWORD, [FIELDS.csrfToken]: other.csrfToken! }),
  );
  record(
    'register without token',
    await anonymous.post(ROUTES.register, {
      [FIELDS.username]: uniqueUsername('csrfreg'),
      [FIELDS.email]: 'x@example.org',
      [FIELDS.newPassword]: TEST_PASSWORD,
      [FIELDS.passwordConfirm]: TEST_PASSWORD,
      [FIELDS.csrfToken]: '',
    }),
  );

  // A logged-in victim: regenerating recovery codes, removing TOTP, logging out, adding a key.
  const pending = await passwordStep(url, user);
  const { currentTotp } = await import('../kit/current-totp.js');
  const loggedIn = await pending.client.post(pending.twoFactorUrl, { [FIELDS.totpValue]: currentTotp(user.totpSecret!) });
  if (loggedIn.status !== 303) throw new Error(`csrf setup: 2FA login answered ${loggedIn.status}`);
  const victim = pending.client;
  await victim.get(ROUTES.manageAccount);
  const remainingBefore = (await deployment.services.accounts.twoFactorStatus(user.id)).recoveryCodesRemaining;
  record('recovery-codes/generate without token', await victim.post(ROUTES.recoveryCodesGenerate, { [FIELDS.csrfToken]: '' }));
  record('recovery-codes/generate with forged token', await victim.post(ROUTES.recoveryCodesGenerate, { [FIELDS.csrfToken]: other.csrfToken! }));
  record('totp-provision/remove without token', await victim.post(ROUTES.totpProvisionRemove, { [FIELDS.password]: TEST_PASSWORD, [FIELDS.csrfToken]: '' }));
  record('logout without token', await victim.post(ROUTES.logout, { [FIELDS.csrfToken]: '' }));
  record('webauthn-provision/options JSON without header', await victim.postJson(ROUTES.webauthnProvisionOptions, {}, { csrfToken: '' }));
  record('webauthn-provision/options JSON with forged header', await victim.postJson(ROUTES.webauthnProvisionOptions, {}, { csrfToken: other.csrfToken! }));
  // Nothing changed: same codes, TOTP still on, still logged in.
  const status = await deployment.services.accounts.twoFactorStatus(user.id);
  const stillIn = await victim.get(ROUTES.manageAccount);
  cases.push({
    name: 'nothing changed (codes, TOTP, session)',
    status: stillIn.status,
    refused: status.recoveryCodesRemaining === remainingBefore && status.hasTotp && stillIn.status === 200,
  });
  return cases;
}

export interface CookieFlags {
  origin: string;
  setCookie: string;
  problems: string[];
  hsts: string | null;
}

/** Session cookie flags on http (HttpOnly, SameSite=Lax) and on https (+ Secure, `__Host-` prefix, HSTS). */
export async function cookieFlags(deployment: Deployment): Promise<CookieFlags[]> {
  const results: CookieFlags[] = [];
  const check = async (base: string, origin: string) => {
    const response = await fetch(new URL(ROUTES.login, base), { redirect: 'manual' });
    const cookies = response.headers.getSetCookie();
    const session = cookies.find((c) => SESSION_COOKIE.test(c.split('=')[0]!.trim())) ?? '';
    const attributes = session.split(';').map((a) => a.trim().toLowerCase());
    const problems: string[] = [];
    if (!session) problems.push('no session cookie set');
    if (!attributes.includes('httponly')) problems.push('not HttpOnly');
    if (!attributes.includes('samesite=lax') && !attributes.includes('samesite=strict')) problems.push('not SameSite=Lax');
    if (!attributes.includes('path=/')) problems.push('not Path=/');
    if (origin.startsWith('https:')) {
      if (!attributes.includes('secure')) problems.push('not Secure over https');
      if (!session.startsWith('__Host-')) problems.push('no __Host- prefix over https');
      if (attributes.some((a) => a.startsWith('domain='))) problems.push('Domain attribute set (defeats __Host-)');
      if (!/max-age=\d{7,}/.test(response.headers.get('strict-transport-security') ?? '')) problems.push('no HSTS over https');
    }
    results.push({ origin, setCookie: session.replace(/=[^;]*/, '=…'), problems, hsts: response.headers.get('strict-transport-security') });
  };
  await check(deployment.urls()[0]!, deployment.config.origin);
  // Same database, same secret, served as https://localhost (as behind a TLS-terminating proxy).
  const https = await startServerProcess({
    databaseUrl: deployment.config.databaseUrl,
    secretKey: deployment.config.secretKey,
    rateLimits: deployment.config.rateLimits,
    argon2: deployment.config.argon2,
    origin: 'https://localhost',
    rpId: 'localhost',
  });
  try {
    await check(https.url, 'https://localhost');
  } finally {
    await https.stop();
  }
  return results;
}

export interface HeaderCheck {
  page: string;
  status: number;
  problems: string[];
}

/** Every page — anonymous, mid-login, logged in, and error pages — carries the CSP and frame headers. */
export async function headersOnEveryPage(deployment: Deployment): Promise<HeaderCheck[]> {
  const url = deployment.urls()[0]!;
  const user = await seedUser(deployment.services, { prefix: 'hdr', totp: true, recoveryCodes: true });
  const checks: HeaderCheck[] = [];
  const record = (page: string, response: SessionResponse) =>
    checks.push({ page, status: response.status, problems: securityHeaderProblems(response.headers) });

  const anonymous = createSessionClient(url);
  for (const path of [
    ROUTES.login,
    ROUTES.register,
    ROUTES.healthz,
    ROUTES.manageAccount,
    '/no/such/page',
    `${ROUTES.twoFactor}?token=forged`,
    ROUTES.recoveryCode,
    '/static/does-not-exist.js',
  ]) {
    record(`GET ${path} (anonymous)`, await anonymous.get(path));
  }
  await anonymous.get(ROUTES.login);
  record('POST login without CSRF (403 page)', await anonymous.post(ROUTES.login, { [FIELDS.csrfToken]: '' }));
  record(
    'POST login wrong password (401 page)',
    await anonymous.post(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: 'wrong wrong wrong' }),
  );

  const pending = await passwordStep(url, user);
  record('GET two-factor page', await pending.client.get(pending.twoFactorUrl));
  record('GET recovery-code page', await pending.client.get(`${ROUTES.recoveryCode}?${FIELDS.twoFactorToken}=${encodeURIComponent(pending.token)}`));
  record('POST two-factor wrong code', await pending.client.post(pending.twoFactorUrl, { [FIELDS.totpValue]: '000000' }));
  const { currentTotp } = await import('../kit/current-totp.js');
  const inside = await pending.client.post(pending.twoFactorUrl, { [FIELDS.totpValue]: currentTotp(user.totpSecret!) });
  record('POST two-factor success (303)', inside);
  for (const path of [ROUTES.manageAccount, ROUTES.totpProvision, ROUTES.webauthnProvision, ROUTES.totpProvisionImage]) {
    record(`GET ${path} (logged in)`, await pending.client.get(path));
  }
  record('POST webauthn-provision/validate bad JSON', await pending.client.postJson(ROUTES.webauthnProvisionValidate, { credential: 'nonsense' }));
  return checks;
}

export interface RedirectCase {
  next: string;
  location: string | null;
  safe: boolean;
}

export const HOSTILE_NEXT_VALUES = [
  'https://evil.example/',
  '//evil.example/',
  '///evil.example/',
  '/\\evil.example/',
  '\\\\evil.example/',
  '/%2F%2Fevil.example/',
  '/%5Cevil.example/',
  'http:evil.example',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  ' //evil.example/',
  '/\t/evil.example/',
  '/\n/evil.example/',
  'https://localhost@evil.example/',
  '/manage/account/\r\nLocation: https://evil.example/',
];

/** A redirect is safe when it stays on the server's own origin. */
function staysLocal(location: string | null, base: string): boolean {
  if (location === null) return true;
  const target = new URL(location, base);
  return target.origin === new URL(base).origin;
}

/** `next` on the login form (no-2FA and 2FA users) must never send the browser to another origin. */
export async function openRedirects(deployment: Deployment): Promise<RedirectCase[]> {
  const url = deployment.urls()[0]!;
  const plain = await seedUser(deployment.services, { prefix: 'redir' });
  const cases: RedirectCase[] = [];
  for (const next of HOSTILE_NEXT_VALUES) {
    const client = createSessionClient(url);
    // As a link: /account/login/?next=…, then the form posts next as a field too.
    await client.get(`${ROUTES.login}?${FIELDS.next}=${encodeURIComponent(next)}`);
    const response = await client.post(`${ROUTES.login}?${FIELDS.next}=${encodeURIComponent(next)}`, {
      [FIELDS.username]: plain.username,
      [FIELDS.password]: plain.password,
      [FIELDS.next]: next,
    });
    cases.push({ next, location: response.location, safe: response.status === 303 && staysLocal(response.location, url) });
    // Already logged in: GET login?next= redirects straight away.
    const again = await client.get(`${ROUTES.login}?${FIELDS.next}=${encodeURIComponent(next)}`);
    cases.push({ next: `${next} (logged in, GET)`, location: again.location, safe: staysLocal(again.location, url) });
  }
  return cases;
}

export interface EnumerationResult {
  loginUnknownMessage: string;
  loginWrongPasswordMessage: string;
  loginSameStatus: boolean;
  loginSameMessage: boolean;
  /** Registering with an email that already has an account must not say so. */
  registerExistingEmailRevealed: boolean;
  registerExistingEmailStatus: number;
}

function errorText(html: string): string {
  // The page's error region(s), without the echoed username and the CSRF token.
  const errors = [...html.matchAll(/<(p|div|li)[^>]*class="[^"]*(?:error|flash|alert)[^"]*"[^>]*>([\s\S]*?)<\/\1>/gi)].map((m) =>
    m[2]!.replace(/<[^>]+>/g, '').trim(),
  );
  return errors.join(' | ');
}

/** Error messages must not tell whether a username exists (login) or an email is registered (register). */
export async function enumeration(deployment: Deployment): Promise<EnumerationResult> {
  const url = deployment.urls()[0]!;
  const user = await seedUser(deployment.services, { prefix: 'enum' });
  const client = createSessionClient(url);
  const unknown = await client.submit(ROUTES.login, { [FIELDS.username]: uniqueUsername('ghost'), [FIELDS.password]: 'some wrong password' });
  const wrong = await client.submit(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: 'some wrong password' });
  const registrant = createSessionClient(url);
  const fresh = uniqueUsername('enumreg');
  const sameEmail = await registrant.submit(ROUTES.register, {
    [FIELDS.username]: fresh,
    [FIELDS.email]: `${user.username}@example.org`,
    [FIELDS.newPassword]: TEST_PASSWORD,
    [FIELDS.passwordConfirm]: TEST_PASSWORD,
  });
  return {
    loginUnknownMessage: errorText(unknown.body),
    loginWrongPasswordMessage: errorText(wrong.body),
    loginSameStatus: unknown.status === wrong.status,
    loginSameMessage: errorText(unknown.body) === errorText(wrong.body) && errorText(wrong.body) !== '',
    registerExistingEmailRevealed: /already|exists|in use|registered/i.test(errorText(sameEmail.body)),
    registerExistingEmailStatus: sameEmail.status,
  };
}
