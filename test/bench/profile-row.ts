// Profile one kind of request: a Latchkey server child under `node --cpu-prof` and autocannon load on one
// request only, so the profile shows that request's cost and nothing else (npm run bench -- --profile profiles
// every row of a server's life in one file). Prints req/s, p99 and the server's CPU µs per request.
//
//   npx tsx test/bench/profile-row.ts <login|two-factor|wrong-totp|password> [sqlite|postgres] [seconds=8] [--no-profile] [--statements]
// then: npx tsx test/bench/profile-summary.ts test-results/profile-row-<row>-<dialect>/CPU.*.0.*.cpuprofile
//
// --no-profile: no profiler, so the CPU µs per request are the bench's (the profiler adds its own).
// --statements (SQLite): every statement the server runs during the load, timed inside the server process
// (children/statement-times.ts), per SQL text: calls per request and µs per call — the request's database
// work, measured where it runs, beside the CPU it costs in all.
import { fileURLToPath } from 'node:url';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { createSessionClient } from '../src/kit/create-session-client.js';
import { currentTotp } from '../src/kit/current-totp.js';
import { BENCH_PASSWORD, createDeployment } from './lib/latchkey.js';
import type { StatementTime } from './children/ipc.js';
import { runLoad, runLoadMeasured, type LoadRequest } from './lib/load.js';
import { BENCH_TOTP_SECRET, prepareTotpLogins, twoFactorPathOf } from './lib/pools.js';

const ROWS = ['login', 'two-factor', 'wrong-totp', 'password'] as const;
const WARM_UP_SECONDS = 2;
const FLAGS = ['--no-profile', '--statements'] as const;
const args = process.argv.slice(2);
const flags = new Set(args.filter((arg) => arg.startsWith('--')));
const [row, dialect = 'sqlite', seconds = '8'] = args.filter((arg) => !arg.startsWith('--'));
if (
  !(ROWS as readonly string[]).includes(row ?? '') ||
  (dialect !== 'sqlite' && dialect !== 'postgres') ||
  !(Number(seconds) > 0) ||
  [...flags].some((flag) => !(FLAGS as readonly string[]).includes(flag)) ||
  (flags.has('--statements') && dialect !== 'sqlite')
) {
  console.error(`usage: npx tsx test/bench/profile-row.ts <${ROWS.join('|')}> [sqlite|postgres] [seconds] [${FLAGS.join('] [')}]  (--statements: sqlite only)`);
  process.exit(2);
}
const profile = !flags.has('--no-profile');
const cpuProfileDir = fileURLToPath(new URL(`../../test-results/profile-row-${row}-${dialect}`, import.meta.url));
const deployment = await createDeployment(dialect, {
  label: 'server',
  ...(profile ? { cpuProfileDir } : {}),
  statementTimes: flags.has('--statements'),
});
try {
  const passwordHash = await deployment.services.passwords.hash(BENCH_PASSWORD);
  // Wrong codes go round-robin over many accounts, as in the bench's row (b): the yearly guessing budget keeps
  // its production value (300 an account), which one account would reach within a second.
  const logins = await prepareTotpLogins(deployment, 'profile-', row === 'wrong-totp' ? 1_000 : 1, passwordHash);
  const user = logins[0];
  const server = await deployment.addServer();
  const client = createSessionClient(server.url);
  const page = await client.get(ROUTES.login);
  const cookie = [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  const post = (path: string, fields: Record<string, string>): LoadRequest => ({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: 'http://localhost' },
    body: new URLSearchParams({ [FIELDS.csrfToken]: page.csrfToken!, ...fields }).toString(),
  });
  const twoFactorPath = twoFactorPathOf(user!);
  let next = 0;
  const wrong = String((Number(currentTotp(BENCH_TOTP_SECRET)) + 500_000) % 1_000_000).padStart(6, '0');
  const request: () => LoadRequest = {
    login: () => ({ method: 'GET', path: ROUTES.login, headers: { cookie } }) as LoadRequest,
    'two-factor': () => ({ method: 'GET', path: twoFactorPath, headers: { cookie } }) as LoadRequest,
    'wrong-totp': () => post(twoFactorPathOf(logins[next++ % logins.length]!), { [FIELDS.totpValue]: wrong }),
    password: () => post(ROUTES.login, { [FIELDS.username]: user!.username, [FIELDS.password]: BENCH_PASSWORD }),
  }[row as (typeof ROWS)[number]];
  // The JIT warms up first (unmeasured), as the bench's earlier rows warm it for each of its rows.
  await runLoad({ urls: [server.url], connections: 50, durationSeconds: WARM_UP_SECONDS, nextRequest: request });
  const result = await runLoadMeasured([server], { urls: [server.url], connections: 50, durationSeconds: Number(seconds), nextRequest: request });
  console.log(
    `${row} on ${dialect}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.latencyP99Ms} ms, ` +
      `server CPU ${result.cpuMicrosPerRequest?.toFixed(0) ?? '?'} µs/req${profile ? ' (profiled)' : ''}, statuses ${JSON.stringify(result.statusCounts)}`,
  );
  if (flags.has('--statements')) printStatementTimes(result.statements ?? [], result.requests, result.cpuMicrosPerRequest);
} finally {
  await deployment.close();
}
if (profile) console.log(`profile: ${cpuProfileDir}/server-1`);

function printStatementTimes(times: StatementTime[], requests: number, cpuMicrosPerRequest: number | undefined): void {
  if (requests === 0) return;
  if (times.length === 0) {
    console.log('\nno SQLite statement ran during the load');
    return;
  }
  const rows = times.sort((a, b) => b.micros - a.micros);
  const total = rows.reduce((sum, time) => sum + time.micros, 0) / requests;
  console.log('\ncalls/req   µs/call   µs/req   statement');
  for (const time of rows) {
    if (time.calls / requests < 0.001) continue;
    const perRequest = time.micros / requests;
    console.log(
      `${(time.calls / requests).toFixed(2).padStart(9)} ${(time.micros / time.calls).toFixed(1).padStart(9)} ${perRequest.toFixed(1).padStart(8)}   ${time.sql.replace(/\s+/g, ' ').slice(0, 110)}`,
    );
  }
  const share = cpuMicrosPerRequest ? ` (${((100 * total) / cpuMicrosPerRequest).toFixed(0)} % of the server's CPU per request)` : '';
  console.log(`${'in all'.padStart(27)} ${total.toFixed(1).padStart(8)}   µs of statements per request${share}`);
}
