// Profile one kind of request: a Latchkey server child under `node --cpu-prof` and autocannon load on one
// request only, so the profile shows that request's cost and nothing else (npm run bench -- --profile profiles
// every row of a server's life in one file).
//
//   npx tsx test/bench/profile-row.ts <login|two-factor|wrong-totp|password> [sqlite|postgres] [seconds=8]
// then: npx tsx test/bench/profile-summary.ts test-results/profile-row-<row>-<dialect>/CPU.*.0.*.cpuprofile
import { fileURLToPath } from 'node:url';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { createSessionClient } from '../src/kit/create-session-client.js';
import { currentTotp } from '../src/kit/current-totp.js';
import { BENCH_PASSWORD, createDeployment } from './lib/latchkey.js';
import { runLoad, type LoadRequest } from './lib/load.js';
import { BENCH_TOTP_SECRET, prepareTotpLogins, twoFactorPathOf } from './lib/pools.js';

const ROWS = ['login', 'two-factor', 'wrong-totp', 'password'] as const;
const [row, dialect = 'sqlite', seconds = '8'] = process.argv.slice(2);
if (!(ROWS as readonly string[]).includes(row ?? '') || (dialect !== 'sqlite' && dialect !== 'postgres')) {
  console.error(`usage: npx tsx test/bench/profile-row.ts <${ROWS.join('|')}> [sqlite|postgres] [seconds]`);
  process.exit(2);
}
const cpuProfileDir = fileURLToPath(new URL(`../../test-results/profile-row-${row}-${dialect}`, import.meta.url));
const deployment = await createDeployment(dialect, { label: 'server', cpuProfileDir });
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
  const result = await runLoad({ urls: [server.url], connections: 50, durationSeconds: Number(seconds), nextRequest: request });
  console.log(
    `${row} on ${dialect}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.latencyP99Ms} ms, statuses ${JSON.stringify(result.statusCounts)}`,
  );
} finally {
  await deployment.close();
}
console.log(`profile: ${cpuProfileDir}/server-1`);
