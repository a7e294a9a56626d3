import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One config for every workspace's unit tests (`*.test.ts` beside the code). The alias lets tests
// import @latchkey/shared from source, so `vitest` needs no prior build.
/**
 * @latchkey/shared from source; `@latchkey/shared/routes` is the dependency-free subpath the popup uses. Exact
 * matches: a plain prefix alias would turn `@latchkey/shared/password-patterns` into a path inside index.ts.
 * Also used by test/stress/vitest.config.ts.
 */
export const SHARED_FROM_SOURCE = [
  { find: /^@latchkey\/shared\/routes$/, replacement: fileURLToPath(new URL('./shared/src/routes.ts', import.meta.url)) },
  { find: /^@latchkey\/shared$/, replacement: fileURLToPath(new URL('./shared/src/index.ts', import.meta.url)) },
];

export default defineConfig({
  resolve: { alias: SHARED_FROM_SOURCE },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Vitest's default is one worker fewer than the cores: one worker on a 2-core machine. Most files wait
    // on PostgreSQL, SQLite's file locks, argon2 on libuv's pool or their own timers (the mail-delivery and
    // crash suites), so one more worker than cores keeps the cores busy. Measured in `npm test` on 2 cores
    // (2026-11-30), the static checks running beside: 240 s with 1 worker, 179 s with 3.
    maxWorkers: availableParallelism() + 1,
    projects: [
      {
        extends: true,
        // Each workspace's own tests share one module graph per worker: re-importing Express, Kysely,
        // Preact and SimpleWebAuthn for each of 70 files cost the unit phase CPU it did not have (measured
        // 2026-11-30 on 2 cores, the whole suite: 139 → 128 s, 235 → 198 CPU s). These files leave no global
        // state behind them (servers, clocks and databases are closed in their own afterAll).
        test: { name: 'unit', include: ['{shared,server,extension}/src/**/*.test.{ts,tsx}'], isolate: false },
      },
      {
        extends: true,
        // The testing kit's tests and the reliability suites start servers and child processes, kill them,
        // and time logins: each file in a fresh module graph, as Vitest does by default.
        test: { name: 'kit-and-reliability', include: ['test/src/**/*.test.{ts,tsx}'] },
      },
    ],
  },
});
