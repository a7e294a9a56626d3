/**
 * Double spend (issue 8, point 1): the same one-time secret submitted many times at once, spread
 * over every instance of a deployment, must log in exactly once. Each submission rides on its own
 * password step (its own two-factor token T), as an attacker racing the user would; for WebAuthn the
 * same signed assertion (one challenge) is replayed on its own login over every instance — and, first, on
 * another pending login of the account, which must refuse it: a login's challenge is that login's alone.
 */
import { FIELDS, ROUTES, isApiFailure } from '@latchkey/shared';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { currentTotp } from '../kit/current-totp.js';
import { createSessionClient } from '../kit/create-session-client.js';
import { softAuthenticator } from '../kit/soft-authenticator.js';
import type { Deployment } from './harness/deployment.js';
import { cookieHeader, mapLimit, passwordStep, seedUser, TEST_PASSWORD, uniqueUsername, type PendingLogin } from './harness/login-flow.js';
import { NO_ORIGIN } from '../../../server/src/services/index.js';

export interface DoubleSpendFigures {
  method: 'TOTP' | 'recovery code' | 'WebAuthn assertion';
  submissions: number;
  successes: number;
  /** Refusals by HTTP status. */
  refusedByStatus: Record<number, number>;
  /** Answers that were neither a success nor a clear 4xx refusal (must be 0). */
  unclear: string[];
  /** Sessions the database holds for the user afterwards (must equal successes). */
  sessionsCreated: number;
}

export function describeDoubleSpend(label: string, f: DoubleSpendFigures): string {
  const refused = Object.values(f.refusedByStatus).reduce((a, b) => a + b, 0);
  const statuses = Object.entries(f.refusedByStatus)
    .map(([status, n]) => `${n}×${status}`)
    .join(', ');
  return `double-spend ${f.method} ${label}: ${f.submissions} submissions → ${f.successes} success, ${refused} refused (${statuses}), ${f.unclear.length} unclear; sessions created: ${f.sessionsCreated}`;
}

/** Open `count` pending logins for `user`, spread round-robin over the deployment's instances. */
async function pendingLogins(deployment: Deployment, user: { username: string; password: string }, count: number): Promise<PendingLogin[]> {
  const urls = deployment.urls();
  return mapLimit(
    Array.from({ length: count }, (_, i) => i),
    8,
    (i) => passwordStep(urls[i % urls.length]!, user),
  );
}

async function sessionsOf(deployment: Deployment, userId: string): Promise<number> {
  const row = await deployment.services.db
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

function tally(
  method: DoubleSpendFigures['method'],
  answers: { status: number; success: boolean; refusal: boolean; summary: string }[],
  sessionsCreated: number,
): DoubleSpendFigures {
  const refusedByStatus: Record<number, number> = {};
  const unclear: string[] = [];
  let successes = 0;
  for (const answer of answers) {
    if (answer.success) successes++;
    else if (answer.refusal) refusedByStatus[answer.status] = (refusedByStatus[answer.status] ?? 0) + 1;
    else unclear.push(answer.summary);
  }
  return { method, submissions: answers.length, successes, refusedByStatus, unclear, sessionsCreated };
}

/** A refusal people can understand: a 4xx whose page says why (the messages come from services/login.ts). */
const CLEAR_REFUSAL = /already been used|Too many failed attempts|Try again in|log in again|Invalid/i;

export async function doubleSpendTotp(deployment: Deployment, submissions: number): Promise<DoubleSpendFigures> {
  const user = await seedUser(deployment.services, { prefix: 'dstotp', totp: true });
  const logins = await pendingLogins(deployment, user, submissions);
  const code = currentTotp(user.totpSecret!);
  const answers = await Promise.all(
    logins.map(async ({ client, twoFactorUrl }) => {
      const response = await client.post(twoFactorUrl, { [FIELDS.totpValue]: code });
      const success = response.status === 303 && response.location !== null && !response.location.includes(ROUTES.twoFactor);
      const refusal = response.status >= 400 && response.status < 500 && CLEAR_REFUSAL.test(response.body);
      return { status: response.status, success, refusal, summary: `${response.status} ${response.location ?? ''} ${response.body.slice(0, 120)}` };
    }),
  );
  return tally('TOTP', answers, await sessionsOf(deployment, user.id));
}

export async function doubleSpendRecoveryCode(deployment: Deployment, submissions: number): Promise<DoubleSpendFigures> {
  const user = await seedUser(deployment.services, { prefix: 'dsrec', totp: true, recoveryCodes: true });
  const logins = await pendingLogins(deployment, user, submissions);
  const code = user.recoveryCodes![0]!;
  const answers = await Promise.all(
    logins.map(async ({ client, token }) => {
      const url = `${ROUTES.recoveryCode}?${FIELDS.twoFactorToken}=${encodeURIComponent(token)}`;
      const response = await client.post(url, { [FIELDS.recoveryCodeValue]: code });
      const success = response.status === 303 && response.location !== null && !response.location.includes(ROUTES.recoveryCode);
      const refusal = response.status >= 400 && response.status < 500 && CLEAR_REFUSAL.test(response.body);
      return { status: response.status, success, refusal, summary: `${response.status} ${response.location ?? ''} ${response.body.slice(0, 120)}` };
    }),
  );
  const figures = tally('recovery code', answers, await sessionsOf(deployment, user.id));
  const burned = await deployment.services.db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('user_id', '=', user.id)
    .where('used_at', 'is not', null)
    .executeTakeFirstOrThrow();
  if (Number(burned.count) !== figures.successes) {
    figures.unclear.push(`database shows ${burned.count} burned codes for ${figures.successes} successes`);
  }
  return figures;
}

/**
 * Register a soft security key for a fresh user over HTTP (no 2FA yet, so the password alone logs in),
 * then replay one assertion `submissions` times on the login it was made for, over every instance. Before
 * that, the assertion is sent once with another pending login's T: that must be refused (counted as
 * unclear otherwise), and the race's figures do not include it. One such refusal, not one per instance:
 * with the shipped limits (the stress run) each counts against the account's few attempts.
 */
export async function doubleSpendWebauthn(deployment: Deployment, submissions: number): Promise<DoubleSpendFigures> {
  const urls = deployment.urls();
  const origin = deployment.config.origin;
  const username = uniqueUsername('dswa');
  // Verified: the key below is the account's first second factor, added through the pages.
  await deployment.services.accounts.register({ username, email: `${username}@example.org`, password: TEST_PASSWORD }, NO_ORIGIN, { emailVerified: true });
  const key = softAuthenticator();
  const owner = createSessionClient(urls[0]!);
  const login = await owner.submit(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: TEST_PASSWORD });
  if (login.status !== 303) throw new Error(`login before key registration answered ${login.status}: ${login.body.slice(0, 200)}`);
  await owner.get(ROUTES.webauthnProvision);
  const creation = await owner.postJson(ROUTES.webauthnProvisionOptions, {});
  if (creation.status !== 200) throw new Error(`creation options answered ${creation.status}: ${creation.body.slice(0, 200)}`);
  const credential = key.createRegistrationResponse(creation.json(), { origin });
  const registered = await owner.postJson(ROUTES.webauthnProvisionValidate, { credential, label: 'reliability key' });
  if (registered.status !== 200) throw new Error(`key registration answered ${registered.status}: ${registered.body.slice(0, 300)}`);
  const userId = (await deployment.services.accounts.findByUsername(username))!.id;
  const sessionsBefore = await sessionsOf(deployment, userId);

  const [first, other] = (await pendingLogins(deployment, { username, password: TEST_PASSWORD }, 2)) as [PendingLogin, PendingLogin];
  const optionsUrl = `${ROUTES.webauthnAuthenticateOptions}?${FIELDS.twoFactorToken}=${encodeURIComponent(first.token)}`;
  const requestOptions = await first.client.postJson(optionsUrl, {});
  if (requestOptions.status !== 200) throw new Error(`request options answered ${requestOptions.status}: ${requestOptions.body.slice(0, 200)}`);
  const assertion = key.createAuthenticationResponse(requestOptions.json<PublicKeyCredentialRequestOptionsJSON>(), { origin });

  const submit = async (pending: PendingLogin, target: string) => {
    const url = new URL(`${ROUTES.webauthnAuthenticateValidate}?${FIELDS.twoFactorToken}=${encodeURIComponent(pending.token)}`, target);
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        cookie: cookieHeader(pending.client),
        origin: new URL(target).origin,
        [FIELDS.csrfHeader]: pending.client.csrfToken ?? '',
      },
      body: JSON.stringify({ credential: assertion }),
    });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: counted as unclear below */
    }
    const success = response.status === 200 && typeof (body as { success?: unknown } | null)?.success === 'string';
    const refusal = response.status >= 400 && response.status < 500 && isApiFailure(body) && body.fail.errors.length > 0;
    return { status: response.status, success, refusal, summary: `${response.status} ${text.slice(0, 160)}` };
  };

  const elsewhere = await submit(other, urls[urls.length - 1]!);
  const answers = await Promise.all(Array.from({ length: submissions }, (_, i) => submit(first, urls[i % urls.length]!)));
  const figures = tally('WebAuthn assertion', answers, (await sessionsOf(deployment, userId)) - sessionsBefore);
  if (!elsewhere.refusal) figures.unclear.push(`the answer to one login's options, sent for another login: ${elsewhere.summary}`);
  return figures;
}
