import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SHARED_FROM_SOURCE } from '../../vitest.config.js';

// `npm run test:stress`: the long versions of the reliability suites (test/src/reliability), same
// code with larger sizes. Not part of `npm test`; files run one after another so the figures they
// print are not distorted by each other on a 2-core machine.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  // The unit tests' aliases: a prefix alias here sent `@latchkey/shared/password-patterns` into index.ts, and
  // every stress file failed to load.
  resolve: { alias: SHARED_FROM_SOURCE },
  test: {
    include: ['test/stress/**/*.stress.ts'],
    fileParallelism: false,
    testTimeout: 20 * 60_000,
    hookTimeout: 5 * 60_000,
    reporters: ['verbose'],
  },
});
