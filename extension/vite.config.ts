import { fileURLToPath } from 'node:url';
import { crx } from '@crxjs/vite-plugin';
import { defineConfig } from 'vite';
import { manifestFor, type BuildTarget } from './manifest.config.js';

const TARGETS: readonly BuildTarget[] = ['chromium', 'chromium-test', 'firefox'];

export default defineConfig(() => {
  const target = (process.env.LATCHKEY_TARGET ?? 'chromium') as BuildTarget;
  if (!TARGETS.includes(target)) throw new Error(`LATCHKEY_TARGET must be one of ${TARGETS.join(', ')}`);
  // `npm run dev` watches the test build into a folder of its own (test/src/dev/dev-banner.ts DEV_EXTENSION_BUILD):
  // its rebuilds empty their folder first, which would pull the build out from under journeys running meanwhile.
  const outDir = process.env.LATCHKEY_OUT_DIR || `dist/${target}`;
  return {
    resolve: {
      alias: [
        // @latchkey/shared from source; `@latchkey/shared/routes` is the dependency-free subpath the popup uses.
        { find: /^@latchkey\/shared\/routes$/, replacement: fileURLToPath(new URL('../shared/src/routes.ts', import.meta.url)) },
        { find: /^@latchkey\/shared$/, replacement: fileURLToPath(new URL('../shared/src/index.ts', import.meta.url)) },
      ],
    },
    oxc: { jsx: { runtime: 'automatic' as const, importSource: 'preact' } },
    plugins: [crx({ manifest: manifestFor(target), browser: target === 'firefox' ? 'firefox' : 'chrome' })],
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      // The popup's HTML lists the chunk its script imports (<link rel="modulepreload">), so the two load at
      // once rather than one after the other: popup open → first code 137 → 131 ms median over 240 loads each.
      // No polyfill: both target browsers (Chromium 116+, Firefox 140+) preload modules themselves.
      modulePreload: { polyfill: false },
    },
  };
});
