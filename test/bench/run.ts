// `npm run bench`: measures Latchkey's login steps and extension against baselines taken in the same run
// on the same machine, prints one table and writes it as JSON to test/bench/results/<timestamp>.json.
// Absolute numbers on shared machines are noise; the ratios are the result.
//
//   npm run bench                         everything (~5 min on 2 cores)
//   npm run bench -- --only=server,scale  some groups: baseline, server, scale, extension
//   npm run bench -- --duration=3         seconds per load row (default 6)
//   npm run bench -- --profile            also write a V8 CPU profile of every server child
//   npm run bench -- --backends=sqlite    server rows for some backends only: sqlite, postgres, postgres×2
//   npm run bench -- --compare-with=DIR   also "[before]" server rows from another checkout (same schema), back to back
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_KDF } from '../../extension/src/vault/kdf-params.js';
import { DEFAULT_ARGON2 } from '../../server/src/config.js';
import { timeArgon2id } from './lib/argon2-baseline.js';
import { ARGON2_LIMIT_NOTE, measureArgon2Ideal, measureArgon2Limit, measureBare, measureExpressHello } from './lib/baselines.js';
import { formatMarkdownTable, formatTable, type BenchRow } from './lib/table.js';
import type { BenchContext } from './lib/context.js';

/** Scenario groups after the baselines, in the order they run. */
const SCENARIOS: Record<string, (context: BenchContext) => Promise<BenchRow[]>> = {
  server: async (context) => (await import('./scenarios/server.js')).benchServer(context),
  scale: async (context) => (await import('./scenarios/scale.js')).benchScale(context),
  extension: async (context) => (await import('./scenarios/extension.js')).benchExtension(context),
};
const GROUPS = ['baseline', ...Object.keys(SCENARIOS)];
type Group = string;

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    duration: { type: 'string', default: '6' },
    connections: { type: 'string', default: '50' },
    profile: { type: 'boolean', default: false },
    backends: { type: 'string', default: 'sqlite,postgres,postgres×2' },
    'compare-with': { type: 'string' },
    markdown: { type: 'boolean', default: false },
  },
});

const only = new Set<Group>(
  flags.only
    ? flags.only.split(',').map((name) => {
        if (!(GROUPS as readonly string[]).includes(name)) throw new Error(`--only: unknown group "${name}" (groups: ${GROUPS.join(', ')})`);
        return name as Group;
      })
    : GROUPS,
);
const durationSeconds = Number(flags.duration);
const connections = Number(flags.connections);
const BACKENDS = ['sqlite', 'postgres', 'postgres×2'] as const;
const backends = flags.backends.split(',').map((name) => {
  if (!(BACKENDS as readonly string[]).includes(name)) throw new Error(`--backends: unknown backend "${name}" (backends: ${BACKENDS.join(', ')})`);
  return name as (typeof BACKENDS)[number];
});
if (!(durationSeconds > 0) || !Number.isInteger(connections) || connections < 1) throw new Error('--duration and --connections must be positive numbers');

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
// Profiles are big and machine-specific: under test-results/ (ignored by git), not results/.
const cpuProfileDir = flags.profile ? fileURLToPath(new URL(`../../test-results/bench-profiles-${stamp}`, import.meta.url)) : undefined;

/** The vault's default KDF, taken from the extension itself, in the argon2 binding's terms. */
const VAULT_KDF = { memoryCost: DEFAULT_KDF.m, timeCost: DEFAULT_KDF.t, parallelism: DEFAULT_KDF.p };

/** Written by `npm test` (scripts/test.sh) when it compiled better-sqlite3 at -O1 to save CI time. */
const QUICK_SQLITE_MARKER = fileURLToPath(new URL('../../node_modules/better-sqlite3/build/Release/latchkey-quick-test-build', import.meta.url));

async function main(): Promise<void> {
  if (existsSync(QUICK_SQLITE_MARKER)) {
    throw new Error(
      'better-sqlite3 was compiled at -O1 by `npm test` (quicker to build, slower to run); the SQLite rows would time that build. ' +
        "Run `npm rebuild better-sqlite3` (the package's own -O3 build), then the bench.",
    );
  }
  const cores = availableParallelism();
  // The machine may be shared: the 1-minute load average before and after says how quiet it was.
  const loadBefore = loadavg()[0]!;
  const rows: BenchRow[] = [];
  const log = (message: string) => console.error(`[bench ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(3)}s] ${message}`);

  // Baselines are always measured: every other row is a ratio to one of them.
  log('baseline: bare node:http');
  const bare = await measureBare({ connections, durationSeconds, label: 'hello', ...(cpuProfileDir ? { cpuProfileDir } : {}) });
  rows.push({
    section: 'baseline',
    scenario: 'bare node:http hello (a)',
    backend: '—',
    requestsPerSecond: bare.requestsPerSecond,
    p50Ms: bare.latencyP50Ms,
    p99Ms: bare.latencyP99Ms,
    ...(bare.cpuMicrosPerRequest === undefined ? {} : { cpuMicrosPerRequest: bare.cpuMicrosPerRequest }),
    ratios: [{ value: 1, to: 'bare' }],
  });

  log('baseline: Express hello');
  const expressHello = await measureExpressHello({ connections, durationSeconds, label: 'express-hello' });
  rows.push({
    section: 'baseline',
    scenario: 'Express 5 hello (the framework alone)',
    backend: '—',
    requestsPerSecond: expressHello.requestsPerSecond,
    p50Ms: expressHello.latencyP50Ms,
    p99Ms: expressHello.latencyP99Ms,
    ...(expressHello.cpuMicrosPerRequest === undefined ? {} : { cpuMicrosPerRequest: expressHello.cpuMicrosPerRequest }),
    ratios: [{ value: expressHello.requestsPerSecond / bare.requestsPerSecond, to: 'bare' }],
    notes: [
      'One Express 5 route answering "hello", in its own process: the ceiling of any page the server renders, before routing middleware, sessions, the database or HTML.',
    ],
  });

  log(`baseline: argon2id with the server's parameters (m=${DEFAULT_ARGON2.memoryCost} KiB, t=${DEFAULT_ARGON2.timeCost}, p=${DEFAULT_ARGON2.parallelism})`);
  const argon2Limit = await measureArgon2Limit(cores);
  rows.push({
    section: 'baseline',
    scenario: `argon2 limit: ${cores} verifies at once, no server`,
    backend: '@node-rs/argon2',
    requestsPerSecond: argon2Limit,
    notes: [ARGON2_LIMIT_NOTE],
  });
  const { ideal, hashMs } = await measureArgon2Ideal(cores);
  rows.push({
    section: 'baseline',
    scenario: `${cores} cores ÷ one hash (if cores shared nothing)`,
    backend: '@node-rs/argon2',
    requestsPerSecond: ideal,
    ratios: [{ value: argon2Limit / ideal, to: 'of it reached by the limit' }],
    value: { amount: hashMs, unit: 'ms a hash' },
    notes: [
      `argon2id m=${DEFAULT_ARGON2.memoryCost / 1024} MiB, t=${DEFAULT_ARGON2.timeCost}, p=${DEFAULT_ARGON2.parallelism}, median of 10 sequential hashes in the driver process (its time is the row's value in the JSON); req/s = cores ÷ that: the ideal that cores sharing caches and memory bandwidth do not reach.`,
    ],
  });

  log(`baseline: argon2id ${VAULT_KDF.memoryCost / 1024} MiB/t${VAULT_KDF.timeCost}/p${VAULT_KDF.parallelism} natively (the vault KDF)`);
  const vaultHash = await timeArgon2id(VAULT_KDF, 5, 1);
  rows.push({
    section: 'baseline',
    scenario: `argon2id ${VAULT_KDF.memoryCost / 1024} MiB/t${VAULT_KDF.timeCost}/p${VAULT_KDF.parallelism}, native Node`,
    backend: 'native',
    value: { amount: vaultHash.medianMs, unit: 'ms' },
    notes: [
      'The extension vault KDF computed natively by @node-rs/argon2 (the server’s binding, same parameters) — the reference for the unlock ratio; median of 5.',
    ],
  });

  const context: BenchContext = {
    cores,
    connections,
    durationSeconds,
    bare,
    expressHello,
    argon2Limit,
    backends,
    ...(flags['compare-with'] ? { compareWith: flags['compare-with'] } : {}),
    vaultHashMs: vaultHash.medianMs,
    vaultKdf: VAULT_KDF,
    log,
    ...(cpuProfileDir ? { cpuProfileDir } : {}),
  };

  for (const [group, bench] of Object.entries(SCENARIOS)) {
    if (only.has(group)) rows.push(...(await bench(context)));
  }

  if (only.size > 1 || !only.has('baseline')) {
    // The ceiling again: how much the machine's spare capacity moved during the run (1.00× = steady).
    log('baseline again: bare node:http');
    const bareAgain = await measureBare({ connections, durationSeconds, label: 'hello-again' });
    rows.push({
      section: 'baseline',
      scenario: 'bare node:http hello, again at the end',
      backend: '—',
      requestsPerSecond: bareAgain.requestsPerSecond,
      p50Ms: bareAgain.latencyP50Ms,
      p99Ms: bareAgain.latencyP99Ms,
      ratios: [{ value: bareAgain.requestsPerSecond / bare.requestsPerSecond, to: 'bare' }],
      notes: [
        'Measured again after every other row: far from 1.00× means the machine’s spare capacity changed during the run (other work on a shared machine), and every ratio to bare is that uncertain.',
      ],
    });
  }

  const table = formatTable(rows);
  const loadAfter = loadavg()[0]!;
  const seconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
  const header = `Latchkey bench — ${startedAt.toISOString()}, ${cores} cores, Node ${process.version}, ${connections} connections, ${durationSeconds} s per load row, ${seconds} s in all; load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`;
  console.log(`\n${header}\n`);
  console.log(table);
  if (flags.markdown) console.log(`\n${formatMarkdownTable(rows)}`);

  await mkdir(resultsDir, { recursive: true });
  const file = `${resultsDir}${stamp}.json`;
  await writeFile(
    file,
    JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        seconds,
        cores,
        node: process.version,
        loadAverage: { before: loadBefore, after: loadAfter },
        connections,
        durationSeconds,
        groups: [...only],
        rows,
        header,
        markdown: formatMarkdownTable(rows),
      },
      null,
      2,
    ),
  );
  console.log(`\nwritten: ${file}${cpuProfileDir ? `\nCPU profiles: ${cpuProfileDir}` : ''}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
