import { Secret } from 'otpauth';
import { afterAll, beforeAll, expect } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { DEFAULT_RATE_LIMITS, testConfig } from '../config.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { startServer, type RunningServer } from '../main.js';
import { generateTotpCode } from '../services/totp-code.js';
import { TestBrowser } from './browser.js';
import { linkIn, readOutbox } from './read-outbox.js';

/** The password every route test registers with. */
export const PASSWORD = 'correct horse battery staple';

import { uniqueName } from './unique-name.js';

export { uniqueName };

/** The current code for a secret, `steps` periods from now (login codes use +1: the enabling code spent this step). */
export const codeFor = (secret: string, steps = 0) => generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: Date.now() + steps * 30_000 });

/** A server over a throw-away database of `dialect`; per-IP limits raised (every test shares 127.0.0.1). */
export async function startTestServer(dialect: 'sqlite' | 'postgres', overrides: Parameters<typeof testConfig>[0] = {}) {
  const database = await createTestDatabaseUrl(dialect);
  // Per-account limits keep production values; the per-IP limits themselves are tested in services.test.ts.
  const server = await startServer(
    testConfig({
      databaseUrl: database.databaseUrl,
      rateLimits: { ...DEFAULT_RATE_LIMITS, passwordPerIp: { max: 10_000, windowMs: 900_000 }, secondFactorPerIp: { max: 10_000, windowMs: 900_000 } },
      ...overrides,
    }),
  );
  return {
    server,
    async close() {
      await server.close();
      await database.drop();
    },
  };
}

/**
 * {@link startTestServer} for the enclosing `describe`: started before its tests (handed to `onStarted`,
 * which keeps it in the suite's `server` variable) and stopped, its database dropped, after them.
 */
export function useTestServer(
  dialect: 'sqlite' | 'postgres',
  onStarted: (server: RunningServer) => void,
  overrides: Parameters<typeof testConfig>[0] = {},
): void {
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const started = await startTestServer(dialect, overrides);
    close = started.close;
    onStarted(started.server);
  });
  afterAll(async () => {
    await close?.();
  });
}

/** The registration form, loaded in `b` (for its CSRF token), filled and sent; the caller judges the answer. */
export async function submitRegistration(
  b: TestBrowser,
  { username, email = `${username}@example.org`, password = PASSWORD }: { username: string; email?: string; password?: string },
) {
  await b.get(ROUTES.register);
  return b.post(ROUTES.register, {
    [FIELDS.username]: username,
    [FIELDS.email]: email,
    [FIELDS.newPassword]: password,
    [FIELDS.passwordConfirm]: password,
  });
}

/** Register a fresh account in `b` through the form (logged in afterwards, address not yet verified); returns its name. */
export async function registerIn(b: TestBrowser, password = PASSWORD): Promise<string> {
  const username = uniqueName();
  const response = await submitRegistration(b, { username, password });
  expect(response.status).toBe(303);
  expect(response.location).toBe(ROUTES.manageAccount);
  return username;
}

/**
 * Register a fresh account in `b` (logged in afterwards) and follow the verification link from the
 * outbox, as from the mailbox: 2FA needs a verified address.
 */
export async function registerThrough(b: TestBrowser, server: Pick<RunningServer, 'services'>): Promise<{ username: string; password: string }> {
  const username = await registerIn(b);
  const [mail] = await readOutbox(server.services, { to: `${username}@example.org`, kind: 'verify-email' });
  const verified = await b.get(linkIn(mail!.text, ROUTES.verifyEmail)!);
  expect(verified.status).toBe(303);
  return { username, password: PASSWORD };
}

/** The 8 codes on a recovery-codes page. */
export function codesOnPage(html: string): string[] {
  return [...html.matchAll(/<li><code>([0-9a-f ]{19})<\/code><\/li>/g)].map((match) => match[1]!.replace(/ /g, ''));
}

/** Turn TOTP on through the provisioning page; returns the secret and the 8 recovery codes shown once. */
export async function enableTotpThrough(b: TestBrowser): Promise<{ secret: string; codes: string[] }> {
  const page = await b.get(ROUTES.totpProvision);
  expect(page.status).toBe(200);
  const secret = /aria-label="Secret key">([A-Z2-7 ]+)</.exec(page.text)?.[1]?.replace(/ /g, '');
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  const confirm = await b.post(ROUTES.totpProvision, { [FIELDS.totpValue]: codeFor(secret!) });
  expect(confirm.status).toBe(303);
  expect(confirm.location).toMatch(/^\/manage\/account\/recovery-codes\/\?show=[A-Za-z0-9_-]{22}$/);
  const shown = await b.get(confirm.location!);
  expect(shown.status).toBe(200);
  expect(shown.text).not.toContain('Any older recovery codes have stopped working');
  const codes = codesOnPage(shown.text);
  expect(codes).toHaveLength(8);
  return { secret: secret!, codes };
}

/** The password step in `b`; returns the second-step URL (`?token=…`), loaded (its CSRF token kept). */
export async function passwordStepThrough(b: TestBrowser, username: string, password = PASSWORD): Promise<string> {
  await b.get(ROUTES.login);
  const answer = await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: password });
  expect(answer.location).toMatch(/^\/account\/two-factor\/\?token=/);
  expect((await b.get(answer.location!)).status).toBe(200);
  return answer.location!;
}

/**
 * A fresh account with TOTP and recovery codes (its address verified), logged out, then its password accepted in
 * a new browser: that browser is on the second-step page. `beforePassword` runs after the log-out, before the
 * password step (to spend the account's guesses, say).
 */
export async function totpAccountAtSecondStep(
  server: Pick<RunningServer, 'services' | 'url'>,
  { beforePassword }: { beforePassword?: (username: string) => Promise<void> } = {},
): Promise<{ b: TestBrowser; username: string; url: string; secret: string; recoveryCodes: string[] }> {
  const b = new TestBrowser(server.url);
  const { username } = await registerThrough(b, server);
  const { secret, codes } = await enableTotpThrough(b);
  await b.get(ROUTES.manageAccount);
  expect((await b.post(ROUTES.logout)).status).toBe(303);
  await beforePassword?.(username);
  return { b, username, url: await passwordStepThrough(b, username), secret, recoveryCodes: codes };
}

/** The User-Agent of a Firefox 128 on Windows, for tests that tell two browsers of one type apart. */
export const FIREFOX_128_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** A Firefox 128 on Windows whose requests come from `ip` (the server must trust one proxy: X-Forwarded-For). */
export function firefoxBrowserFrom(server: Pick<RunningServer, 'url'>, ip: string): TestBrowser {
  const b = new TestBrowser(server.url);
  const request = b.request.bind(b);
  b.request = (method, path, body, headers) => request(method, path, body, { 'user-agent': FIREFOX_128_WINDOWS, 'x-forwarded-for': ip, ...headers });
  return b;
}

export type { RunningServer };
