// A real Latchkey server (the product's startServer, unchanged) in its own process, configured by the
// driver through BENCH_SERVER_CONFIG (JSON, a partial Config over testConfig). The only bench-only
// addition is the IPC channel in ./ipc.ts (ready URL, event-loop delay, shutdown) — no HTTP hook.
import { testConfig, type Config } from '../../../server/src/config.js';
import { startServer } from '../../../server/src/main.js';
import { reportFatal, reportReady, serveDriverMessages } from './ipc.js';

async function main(): Promise<void> {
  const raw = process.env.BENCH_SERVER_CONFIG;
  if (!raw) throw new Error('BENCH_SERVER_CONFIG is not set (this entry point is started by test/bench/run.ts)');
  const overrides = JSON.parse(raw) as Partial<Config>;
  const server = await startServer(testConfig({ ...overrides, port: 0, host: '127.0.0.1' }));
  serveDriverMessages(() => server.close());
  reportReady(server.url);
}

main().catch(reportFatal);
