// Scale: TOTP verification latency with 10^3, 10^5 and 10^6 users in the database. The same 1 000 TOTP users
// (each with a two-factor token) submit wrong codes round-robin at every level — the full verify path (token
// check and user lookup by id, rate-limit counters, decrypt + HMAC, failure event) — while filler users are
// bulk-inserted between levels into the same database; only the table size changes.
import { FIELDS, ROUTES } from '@latchkey/shared';
import { createSessionClient } from '../../src/kit/create-session-client.js';
import { currentTotp } from '../../src/kit/current-totp.js';
import type { BenchContext } from '../lib/context.js';
import { BENCH_PASSWORD, createDeployment } from '../lib/latchkey.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { BENCH_TOTP_SECRET, prepareTotpLogins, twoFactorPathOf } from '../lib/pools.js';
import { seedFillerUsers } from '../lib/seed.js';
import type { BenchRow } from '../lib/table.js';
import { allAnswered, statusNote } from './server.js';

const ACTIVE_USERS = 1_000;
const LEVELS = [1_000, 100_000, 1_000_000];
/** "Flat": the 10^6 level's p99 within this factor of the 10^3 level's. */
const FLAT_RATIO = 1.5;

/** A well-formed code matching none of the accepted steps (now ± 1) for the shared bench secret. */
function wrongCode(now: number): string {
  const window = new Set([-1, 0, 1].map((offset) => currentTotp(BENCH_TOTP_SECRET, { at: now + offset * 30_000 })));
  let candidate = 123_456;
  while (window.has(String(candidate).padStart(6, '0'))) candidate++;
  return String(candidate).padStart(6, '0');
}

export async function benchScale(context: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const deployment = await createDeployment(dialect, {
      label: `scale-${dialect}`,
      ...(context.cpuProfileDir ? { cpuProfileDir: context.cpuProfileDir } : {}),
    });
    try {
      const passwordHash = await deployment.services.passwords.hash(BENCH_PASSWORD);
      const server = await deployment.addServer();
      const client = createSessionClient(server.url);
      const page = await client.get(ROUTES.login);
      if (!page.csrfToken) throw new Error(`scale: GET ${ROUTES.login} has no csrf_token`);
      const csrfToken = page.csrfToken;
      const cookie = [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      const logins = await prepareTotpLogins(deployment, 'active-', ACTIVE_USERS, passwordHash);
      let users = ACTIVE_USERS;
      let base: { p99: number; rps: number } | undefined;
      let baseResult: LoadResult | undefined;
      for (const level of LEVELS) {
        if (level > users) {
          // Let requests still in flight from the previous run finish before the inserts take the write lock.
          await new Promise((done) => setTimeout(done, 1_000));
          const started = Date.now();
          await seedFillerUsers(deployment.databaseUrl, users, level, passwordHash);
          context.log(`scale ${dialect}: ${(level - users).toLocaleString('en-US')} filler users inserted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
          users = level;
        }
        let next = 0;
        let step = -1;
        let code = '';
        const result = await runLoad({
          urls: [server.url],
          connections: context.connections,
          durationSeconds: context.durationSeconds,
          nextRequest: () => {
            const now = Date.now();
            if (Math.floor(now / 30_000) !== step) {
              step = Math.floor(now / 30_000);
              code = wrongCode(now);
            }
            const login = logins[next++ % logins.length]!;
            return {
              method: 'POST',
              path: twoFactorPathOf(login),
              headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: 'http://localhost' },
              body: new URLSearchParams({ [FIELDS.csrfToken]: csrfToken, [FIELDS.totpValue]: code }).toString(),
            };
          },
        });
        base ??= { p99: result.latencyP99Ms, rps: result.requestsPerSecond };
        baseResult ??= result;
        const p99Ratio = result.latencyP99Ms / base.p99;
        const last = level === LEVELS[LEVELS.length - 1];
        rows.push({
          section: 'scale',
          scenario: `TOTP verify (wrong code), 10^${Math.round(Math.log10(level))} users`,
          backend: dialect,
          requestsPerSecond: result.requestsPerSecond,
          p50Ms: result.latencyP50Ms,
          p99Ms: result.latencyP99Ms,
          ratios:
            level === LEVELS[0]
              ? []
              : [
                  { value: p99Ratio, to: 'p99 @10^3' },
                  { value: result.requestsPerSecond / base.rps, to: 'req/s @10^3' },
                ],
          ...(last ? { target: `p99 ≤${FLAT_RATIO}× @10^3`, met: allAnswered(result, 401) && allAnswered(baseResult!, 401) && p99Ratio <= FLAT_RATIO } : {}),
          notes: [
            `${ACTIVE_USERS} TOTP users with a token each submit wrong codes round-robin (rate limits raised, as in (b)); filler users (bulk-inserted in big transactions, one shared argon2id hash, never logged in) bring the table to the level between runs.`,
            ...statusNote(result, 401),
          ],
        });
      }
    } finally {
      await deployment.close();
    }
  }
  return rows;
}
