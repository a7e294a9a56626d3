/**
 * Rate limits across instances (issue 8, point 2): failures are counted once, in the database,
 * whichever instance sees them; the lock applies on every instance; a burst of concurrent guesses
 * gets no more evaluations than the limit allows; and an unknown username costs the same time
 * as a wrong password (no enumeration by timing).
 */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { createSessionClient } from '../kit/create-session-client.js';
import { currentTotp } from '../kit/current-totp.js';
import { EVENT_TAGS } from '../../../server/src/services/events.js';
import { hmac } from '../../../server/src/services/keys.js';
import type { Deployment } from './harness/deployment.js';
import { mapLimit, passwordStep, seedUser, uniqueUsername } from './harness/login-flow.js';

export interface SpreadFigures {
  scope: 'password' | 'second factor';
  /** What the limit counts per. */
  per: 'account' | 'IP';
  /** The configured limit. */
  limit: number;
  /** Instance index (0, 1, …) and HTTP status of each attempt, in order. */
  attempts: { instance: number; status: number }[];
  /** 1-based position of the first 429, or null. */
  firstBlockedAt: number | null;
  /** The failure counter the database holds for the account afterwards. */
  storedFailures: number;
  /** Every answer after the lock was a 429 with a "try again in N minutes" message, on every instance. */
  blockedEverywhere: boolean;
}

export function describeSpread(f: SpreadFigures): string {
  const perInstance = new Map<number, number>();
  for (const a of f.attempts) perInstance.set(a.instance, (perInstance.get(a.instance) ?? 0) + 1);
  return (
    `rate limit ${f.scope} across ${perInstance.size} instance(s): limit ${f.limit}/${f.per}, ` +
    `${f.attempts.length} wrong attempts alternating instances → first 429 at attempt ${f.firstBlockedAt}, ` +
    `stored failure count ${f.storedFailures}, blocked on every instance afterwards: ${f.blockedEverywhere ? 'yes' : 'NO'}`
  );
}

async function storedFailures(deployment: Deployment, key: string): Promise<number> {
  const row = await deployment.services.db.selectFrom('rate_limits').select('failures').where('key', '=', key).executeTakeFirst();
  return row?.failures ?? 0;
}

const TRY_AGAIN = /Too many failed attempts\. Try again in \d+ minutes?\./;

/** Wrong passwords for one account, alternating instances, `limit + extra` times. */
export async function passwordFailuresAcrossInstances(deployment: Deployment, extra = 3): Promise<SpreadFigures> {
  const urls = deployment.urls();
  const limit = deployment.config.rateLimits.passwordPerAccount.max;
  const user = await seedUser(deployment.services, { prefix: 'rlpw' });
  const attempts: SpreadFigures['attempts'] = [];
  let blockedEverywhere = true;
  for (let i = 0; i < limit + extra; i++) {
    const instance = i % urls.length;
    const client = createSessionClient(urls[instance]!);
    const response = await client.submit(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: `wrong password, attempt ${i}` });
    attempts.push({ instance, status: response.status });
    if (i >= limit && !(response.status === 429 && TRY_AGAIN.test(response.body))) blockedEverywhere = false;
  }
  const firstBlocked = attempts.findIndex((a) => a.status === 429);
  return {
    scope: 'password',
    per: 'account',
    limit,
    attempts,
    firstBlockedAt: firstBlocked < 0 ? null : firstBlocked + 1,
    storedFailures: await storedFailures(deployment, `password:place:${hmac(deployment.services.keys['rate-limit-subject'], user.username)}:127.0.0.1`),
    blockedEverywhere,
  };
}

/**
 * Wrong TOTP codes for one account, alternating instances, each on a fresh password step (so a
 * per-token or per-process counter could not explain the result).
 */
export async function secondFactorFailuresAcrossInstances(deployment: Deployment, extra = 3): Promise<SpreadFigures & { correctCodeAfterLock: number }> {
  const urls = deployment.urls();
  const limit = deployment.config.rateLimits.secondFactorPerAccount.max;
  const user = await seedUser(deployment.services, { prefix: 'rl2f', totp: true });
  const right = currentTotp(user.totpSecret!);
  const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
  const attempts: SpreadFigures['attempts'] = [];
  let blockedEverywhere = true;
  for (let i = 0; i < limit + extra; i++) {
    const instance = i % urls.length;
    const { client, twoFactorUrl } = await passwordStep(urls[instance]!, user);
    const response = await client.post(twoFactorUrl, { [FIELDS.totpValue]: wrong });
    attempts.push({ instance, status: response.status });
    if (i >= limit && !(response.status === 429 && TRY_AGAIN.test(response.body))) blockedEverywhere = false;
  }
  // Even the right code is refused while locked (otherwise the lock would only slow guessing).
  const { client, twoFactorUrl } = await passwordStep(urls[(limit + extra) % urls.length]!, user);
  const correct = await client.post(twoFactorUrl, { [FIELDS.totpValue]: right });
  const firstBlocked = attempts.findIndex((a) => a.status === 429);
  return {
    scope: 'second factor',
    per: 'account',
    limit,
    attempts,
    firstBlockedAt: firstBlocked < 0 ? null : firstBlocked + 1,
    storedFailures: await storedFailures(deployment, `second-factor:account:${user.id}`),
    blockedEverywhere,
    correctCodeAfterLock: correct.status,
  };
}

export interface BurstFigures {
  instances: number;
  limit: number;
  concurrent: number;
  /** Guesses the server actually checked (each leaves a failure event), vs stopped by the limiter before any check. */
  evaluated: number;
  blocked: number;
  other: string[];
}

export function describeBurst(f: BurstFigures): string {
  return `rate limit burst: ${f.concurrent} concurrent wrong TOTP codes on one account over ${f.instances} instance(s) (limit ${f.limit}) → ${f.evaluated} evaluated, ${f.blocked} refused by the limiter, ${f.other.length} other`;
}

/**
 * A burst of concurrent wrong guesses on one account. A limiter that checks the counter before
 * verifying and increments it after lets every request of the burst past the check; the number
 * of guesses evaluated must stay within the limit (NIST SP 800-63B 5.2.2).
 */
export async function concurrentGuessBurst(deployment: Deployment, concurrent: number): Promise<BurstFigures> {
  const urls = deployment.urls();
  const limit = deployment.config.rateLimits.secondFactorPerAccount.max;
  const user = await seedUser(deployment.services, { prefix: 'rlburst', totp: true });
  const logins = await mapLimit(
    Array.from({ length: concurrent }, (_, i) => i),
    8,
    (i) => passwordStep(urls[i % urls.length]!, user),
  );
  const right = currentTotp(user.totpSecret!);
  const answers = await Promise.all(
    logins.map(({ client, twoFactorUrl }, i) => {
      // Distinct codes other than the current one; that one hits a neighbouring step has odds ~1e-4 per burst.
      const guess = String((Number(right) + 1 + i * 7919) % 1_000_000).padStart(6, '0');
      return client.post(twoFactorUrl, { [FIELDS.totpValue]: guess });
    }),
  );
  let refused = 0;
  const other: string[] = [];
  for (const answer of answers) {
    if (answer.status === 429 || (answer.status === 401 && /Invalid code/.test(answer.body))) refused++;
    else other.push(`${answer.status} ${answer.body.slice(0, 100)}`);
  }
  // A guess the server actually checked leaves a `account:two_factor:failure` event; one stopped at
  // the gate leaves none. (The answer alone cannot tell: the failure that reaches the limit already says 429.)
  const events = await deployment.services.events.list(user.id, { limit: 10_000 });
  const evaluated = events.filter((event) => event.tag === EVENT_TAGS.secondFactorFailure).length;
  const blocked = refused - evaluated;
  return { instances: urls.length, limit, concurrent, evaluated, blocked, other };
}

export interface TimingFigures {
  samples: number;
  unknownMedianMs: number;
  wrongPasswordMedianMs: number;
  /** |a − b| / max(a, b) */
  relativeDifference: number;
}

export function describeTiming(f: TimingFigures): string {
  return (
    `login timing (production argon2id cost): unknown username median ${f.unknownMedianMs.toFixed(1)} ms vs wrong password ` +
    `${f.wrongPasswordMedianMs.toFixed(1)} ms over ${f.samples} samples each → difference ${(f.relativeDifference * 100).toFixed(1)} %`
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Time the password POST for an existing user with a wrong password and for a username that does
 * not exist, interleaved (so drift and background load hit both alike), after a warm-up.
 */
export async function loginTiming(deployment: Deployment, samples: number): Promise<TimingFigures> {
  const url = deployment.urls()[0]!;
  const user = await seedUser(deployment.services, { prefix: 'timing' });
  const client = createSessionClient(url);
  await client.get(ROUTES.login);
  const post = async (username: string) => {
    const started = performance.now();
    const response = await client.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: 'not the password at all' });
    const elapsed = performance.now() - started;
    if (response.status !== 401) throw new Error(`timing: expected 401 for a failed login, got ${response.status}: ${response.body.slice(0, 200)}`);
    if (response.csrfToken === undefined) await client.get(ROUTES.login);
    return elapsed;
  };
  for (let i = 0; i < 5; i++) {
    await post(user.username);
    await post(uniqueUsername('nobody'));
  }
  const unknown: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < samples; i++) {
    // Alternate which goes first, so neither always follows the other.
    if (i % 2) {
      unknown.push(await post(uniqueUsername('nobody')));
      wrong.push(await post(user.username));
    } else {
      wrong.push(await post(user.username));
      unknown.push(await post(uniqueUsername('nobody')));
    }
  }
  const unknownMedianMs = median(unknown);
  const wrongPasswordMedianMs = median(wrong);
  return {
    samples,
    unknownMedianMs,
    wrongPasswordMedianMs,
    relativeDifference: Math.abs(unknownMedianMs - wrongPasswordMedianMs) / Math.max(unknownMedianMs, wrongPasswordMedianMs),
  };
}

/**
 * The per-IP password limit across instances: one client address trying one wrong password on each
 * of many accounts (password spraying), alternating instances, must be stopped after the per-IP limit.
 */
export async function passwordSprayAcrossInstances(deployment: Deployment, extra = 3): Promise<SpreadFigures> {
  const urls = deployment.urls();
  const limit = deployment.config.rateLimits.passwordPerIp.max;
  const attempts: SpreadFigures['attempts'] = [];
  let blockedEverywhere = true;
  for (let i = 0; i < limit + extra; i++) {
    const instance = i % urls.length;
    const client = createSessionClient(urls[instance]!);
    // Accounts need not exist: failures count per IP either way (and unknown names must look the same).
    const response = await client.submit(ROUTES.login, { [FIELDS.username]: uniqueUsername('spray'), [FIELDS.password]: 'Summer2026!Summer2026!' });
    attempts.push({ instance, status: response.status });
    if (i >= limit && !(response.status === 429 && TRY_AGAIN.test(response.body))) blockedEverywhere = false;
  }
  const firstBlocked = attempts.findIndex((a) => a.status === 429);
  return {
    scope: 'password',
    per: 'IP',
    limit,
    attempts,
    firstBlockedAt: firstBlocked < 0 ? null : firstBlocked + 1,
    storedFailures: await storedFailures(deployment, 'password:ip:127.0.0.1'),
    blockedEverywhere,
  };
}
