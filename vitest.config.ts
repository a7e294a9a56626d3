import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One config for every workspace's unit tests (`*.test.ts` beside the code). The alias lets tests
// import @latchkey/shared from source, so `vitest` needs no prior build.
export default defineConfig({
  resolve: {
    alias: { '@latchkey/shared': fileURLToPath(new URL('./shared/src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['{shared,server,extension,test}/src/**/*.test.{ts,tsx}'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
