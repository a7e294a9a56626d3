import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One config for every workspace's unit tests (`*.test.ts` beside the code). The alias lets tests
// import @latchkey/shared from source, so `vitest` needs no prior build.
export default defineConfig({
  resolve: {
    alias: [
      // @latchkey/shared from source; `@latchkey/shared/routes` is the dependency-free subpath the popup uses.
      { find: /^@latchkey\/shared\/routes$/, replacement: fileURLToPath(new URL('./shared/src/routes.ts', import.meta.url)) },
      { find: /^@latchkey\/shared$/, replacement: fileURLToPath(new URL('./shared/src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['{shared,server,extension,test}/src/**/*.test.{ts,tsx}'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Vitest's default is one worker fewer than the cores: one worker on a 2-core machine. Most files wait
    // on PostgreSQL, SQLite's file locks, argon2 on libuv's pool or their own timers (the mail-delivery and
    // crash suites), so one more worker than cores keeps the cores busy. Measured in `npm test` on 2 cores
    // (2026-11-30), the static checks running beside: 240 s with 1 worker, 179 s with 3.
    maxWorkers: availableParallelism() + 1,
  },
});
