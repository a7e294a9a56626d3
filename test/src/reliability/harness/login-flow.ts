/**
 * The few steps of the login flow the reliability suites repeat, built on the testing kit's
 * session client: password step up to the two-factor token T, and seeding users through the
 * server's own services.
 */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { createSessionClient, type SessionClient } from '../../kit/create-session-client.js';
import type { Services } from '../../../../server/src/services/index.js';

export const TEST_PASSWORD = 'correct horse battery staple';

export interface SeededUser {
  id: string;
  username: string;
  password: string;
  totpSecret?: string;
  recoveryCodes?: string[];
}

let counter = 0;
/** A username unique within this process run. */
export function uniqueUsername(prefix: string): string {
  counter += 1;
  return `${prefix}${process.pid}x${counter}x${Math.floor(Math.random() * 1e6)}`.slice(0, 40);
}

/** Register a user through the services; optionally enable TOTP and generate recovery codes. */
export async function seedUser(services: Services, options: { prefix: string; totp?: boolean; recoveryCodes?: boolean }): Promise<SeededUser> {
  const username = uniqueUsername(options.prefix);
  const user = await services.accounts.register({ username, email: `${username}@example.org`, password: TEST_PASSWORD });
  const seeded: SeededUser = { id: user.id, username: user.username, password: TEST_PASSWORD };
  if (options.totp) {
    seeded.totpSecret = services.totp.generateSecret();
    await services.totp.enable(user.id, seeded.totpSecret);
  }
  if (options.recoveryCodes) seeded.recoveryCodes = await services.recoveryCodes.generate(user.id);
  return seeded;
}

export interface PendingLogin {
  client: SessionClient;
  /** The two-factor token T from the redirect. */
  token: string;
  /** Absolute URL of the two-factor page (with ?token=T). */
  twoFactorUrl: string;
}

/** Password step on `baseUrl`: returns the client (holding the pre-auth cookies) and T. Throws if no 2FA redirect. */
export async function passwordStep(baseUrl: string, user: { username: string; password: string }): Promise<PendingLogin> {
  const client = createSessionClient(baseUrl);
  const response = await client.submit(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: user.password });
  const location = response.location;
  if (response.status !== 303 || location === null || !location.includes(ROUTES.twoFactor)) {
    throw new Error(
      `password step for ${user.username}: expected 303 to ${ROUTES.twoFactor}, got ${response.status} ${location ?? ''}\n${response.body.slice(0, 300)}`,
    );
  }
  const token = new URL(location).searchParams.get(FIELDS.twoFactorToken);
  if (!token) throw new Error(`password step: no token in ${location}`);
  // Load the two-factor page so the client holds its csrf_token.
  const page = await client.get(location);
  if (page.status !== 200) throw new Error(`two-factor page answered ${page.status}`);
  return { client, token, twoFactorUrl: location };
}

/** `Cookie` header value for a client's cookies (to replay its session on another instance). */
export function cookieHeader(client: SessionClient): string {
  return [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

/** Run `work` for each item with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}
