// Single-use requests prepared before a load run: each correct TOTP submit needs a user whose last accepted
// step is older than now (replay protection) and its own two-factor token T; each WebAuthn assertion needs its
// own stored challenge and token. Everything is made through the server's services.
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { NO_ORIGIN, type Services } from '../../../server/src/services/index.js';
import { MAX_OPEN_CHALLENGES_PER_USER } from '../../../server/src/services/webauthn-challenges.js';
import { currentTotp } from '../../src/kit/current-totp.js';
import { softAuthenticator } from '../../src/kit/soft-authenticator.js';
import type { Deployment } from './latchkey.js';
import { forEachConcurrently, seedUsers } from './seed.js';

/** Every bench TOTP user shares this secret: the server still decrypts each user's own ciphertext and checks the code. */
export const BENCH_TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** The second-step page of a prepared login (its token in the query, as the password step's redirect carries it). */
export function twoFactorPathOf(login: { token: string }): string {
  return `${ROUTES.twoFactor}?${FIELDS.twoFactorToken}=${encodeURIComponent(login.token)}`;
}

/** Round trips overlap on PostgreSQL; SQLite (synchronous driver) gains nothing from more. */
const concurrencyFor = (deployment: Deployment) => (deployment.dialect === 'postgres' ? 8 : 1);

/**
 * Runs `work` for every item through services bound to a transaction — a few big transactions instead of
 * one commit (one WAL flush) per statement, which on PostgreSQL is the difference between seconds and a minute.
 * PostgreSQL gets several transactions side by side on separate connections.
 */
async function inTransactions<T>(deployment: Deployment, items: readonly T[], work: (services: Services, item: T) => Promise<void>): Promise<void> {
  const chunks = concurrencyFor(deployment);
  const size = Math.ceil(items.length / chunks);
  await Promise.all(
    Array.from({ length: chunks }, (_, chunk) =>
      deployment.db.transaction().execute(async (trx) => {
        const services = deployment.services.boundTo(trx);
        for (const item of items.slice(chunk * size, (chunk + 1) * size)) await work(services, item);
      }),
    ),
  );
}

async function loadUsers(deployment: Deployment, prefix: string) {
  return deployment.db.selectFrom('users').selectAll().where('username', 'like', `${prefix}%`).execute();
}

/**
 * `count` users with TOTP on, each with a fresh two-factor token from the token service. One extra user is
 * seeded and logged in through `services.totp.verify` first: if the bulk-sealed secrets did not decrypt
 * exactly as the server's own, this fails here instead of producing a row of refusals.
 */
export async function prepareTotpLogins(
  deployment: Deployment,
  prefix: string,
  count: number,
  passwordHash: string,
): Promise<{ username: string; token: string }[]> {
  const [probe] = await seedUsers(deployment.databaseUrl, `${prefix}probe-`, 1, passwordHash, {
    secret: BENCH_TOTP_SECRET,
    secretKey: deployment.config.secretKey,
  });
  const probeRow = await deployment.db.selectFrom('users').selectAll().where('id', '=', probe!.id).executeTakeFirstOrThrow();
  const verdict = await deployment.services.totp.verify(probeRow, currentTotp(BENCH_TOTP_SECRET));
  if (verdict !== 'ok')
    throw new Error(
      `bench seeding: services.totp.verify said "${verdict}" for a bulk-seeded TOTP user; test/bench/lib/seed.ts no longer seals secrets like services/totp.ts`,
    );
  await seedUsers(deployment.databaseUrl, prefix, count, passwordHash, { secret: BENCH_TOTP_SECRET, secretKey: deployment.config.secretKey });
  const users = (await loadUsers(deployment, prefix)).filter((user) => !user.username.startsWith(`${prefix}probe-`));
  const logins: { username: string; token: string }[] = [];
  await inTransactions(deployment, users, async (services, user) => {
    // As the password step does: the token carries the account's factors.
    logins.push({ username: user.username, token: await services.loginTokens.issue(user, await services.accounts.twoFactorStatus(user.id)) });
  });
  return logins;
}

/**
 * `count` WebAuthn logins, each a stored authentication challenge answered in advance by a software
 * authenticator, plus a fresh two-factor token. The keys are spread over `keyHolders` users (no more open
 * challenges per user than the server keeps), and report a
 * signature counter of 0 (like synced passkeys), so assertions for one key may arrive in any order — an
 * incrementing counter would make concurrent, reordered assertions look like a cloned key.
 */
export async function prepareWebauthnLogins(
  deployment: Deployment,
  prefix: string,
  count: number,
  passwordHash: string,
  // The server keeps at most MAX_OPEN_CHALLENGES_PER_USER open challenges per user.
  keyHolders = Math.ceil(count / MAX_OPEN_CHALLENGES_PER_USER),
): Promise<{ token: string; credential: AuthenticationResponseJSON }[]> {
  const { services, config } = deployment;
  const { webauthn } = services;
  const seeded = await seedUsers(deployment.databaseUrl, prefix, keyHolders, passwordHash);
  const keys = seeded.map(() => softAuthenticator({ counter: 'zero' }));
  await forEachConcurrently(seeded, concurrencyFor(deployment), async (user, index) => {
    const creation = await webauthn.registrationOptions(user);
    const response = keys[index]!.createRegistrationResponse(creation, { origin: config.origin });
    await webauthn.register(user.id, response, 'Bench key', NO_ORIGIN);
  });
  // Registering a key bumps the security epoch: load the users after it, then issue tokens.
  const users = await loadUsers(deployment, prefix);
  const byId = new Map(seeded.map((user, index) => [user.id, index]));
  const logins: { token: string; credential: AuthenticationResponseJSON }[] = [];
  await inTransactions(
    deployment,
    Array.from({ length: count }, (_, i) => users[i % users.length]!),
    async (services, user) => {
      // The token first: a login's challenge is issued for that login (its token) alone.
      const token = await services.loginTokens.issue(user, await services.accounts.twoFactorStatus(user.id));
      const request = await services.webauthn.authenticationOptions(user.id, token);
      const credential = keys[byId.get(user.id)!]!.createAuthenticationResponse(request, { origin: config.origin });
      logins.push({ token, credential });
    },
  );
  return logins;
}
