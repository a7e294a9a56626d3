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
  },
});
