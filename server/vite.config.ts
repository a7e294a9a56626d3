import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Builds the page scripts in src/client into dist/client, served by the app at /static/.
// Fixed entry names (the views reference them), ES modules (loaded with <script type="module">,
// allowed by `script-src 'self'`), no inline bootstrap and no modulepreload polyfill, so the
// strict CSP holds. Shared code (@simplewebauthn/browser) lands in one hashed chunk.
const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: source('./src/client'),
  publicDir: false,
  logLevel: 'warn',
  resolve: {
    alias: { '@latchkey/shared': source('../shared/src/index.ts') },
  },
  build: {
    outDir: source('./dist/client'),
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    sourcemap: false,
    modulePreload: false,
    reportCompressedSize: false,
    rollupOptions: {
      input: {
        'webauthn-authenticate': source('./src/client/webauthn-authenticate.ts'),
        'webauthn-provision': source('./src/client/webauthn-provision.ts'),
      },
      output: {
        entryFileNames: '[name].js',
        chunkFileNames: 'chunks/common-[hash].js',
      },
    },
  },
});
