// A real Latchkey server (the product's startServer, unchanged) in its own process, configured by the
// driver through BENCH_SERVER_CONFIG (JSON, a partial Config over testConfig). The only bench-only
// addition is the IPC channel in ./ipc.ts (ready URL, event-loop delay, CPU time, shutdown) — no HTTP hook —
// and, with BENCH_STATEMENT_TIMES=1, SQLite statements timed from outside the product (./statement-times.ts).
// BENCH_SERVER_SRC (set by --compare-with) runs another checkout's server/src instead, for before/after rows
// in one run.
import { pathToFileURL } from 'node:url';
import type { Config } from '../../../server/src/config.js';
import { reportFatal, reportReady, serveDriverMessages } from './ipc.js';
import { timeStatements } from './statement-times.js';

type ConfigModule = typeof import('../../../server/src/config.js');
type MainModule = typeof import('../../../server/src/main.js');

async function main(): Promise<void> {
  const raw = process.env.BENCH_SERVER_CONFIG;
  if (!raw) throw new Error('BENCH_SERVER_CONFIG is not set (this entry point is started by test/bench/run.ts)');
  const overrides = JSON.parse(raw) as Partial<Config>;
  if (process.env.BENCH_STATEMENT_TIMES === '1') await timeStatements();
  const source = process.env.BENCH_SERVER_SRC;
  const { testConfig } = (await import(source ? pathToFileURL(`${source}/config.ts`).href : '../../../server/src/config.js')) as ConfigModule;
  const { startServer } = (await import(source ? pathToFileURL(`${source}/main.ts`).href : '../../../server/src/main.js')) as MainModule;
  const server = await startServer(testConfig({ ...overrides, port: 0, host: '127.0.0.1' }));
  serveDriverMessages(() => server.close());
  reportReady(server.url);
}

main().catch(reportFatal);
