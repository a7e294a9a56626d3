import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run test:stress`: the long versions of the reliability suites (test/src/reliability), same
// code with larger sizes. Not part of `npm test`; files run one after another so the figures they
// print are not distorted by each other on a 2-core machine.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  resolve: {
    alias: { '@latchkey/shared': fileURLToPath(new URL('../../shared/src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/stress/**/*.stress.ts'],
    fileParallelism: false,
    testTimeout: 20 * 60_000,
    hookTimeout: 5 * 60_000,
    reporters: ['verbose'],
  },
});
