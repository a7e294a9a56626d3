import { defineManifest } from '@crxjs/vite-plugin';
import { INDEX_ORIGINS } from '../shared/src/routes.js';
import pkg from './package.json' with { type: 'json' };

/** The builds made from this one source. */
export type BuildTarget = 'chromium' | 'chromium-test' | 'firefox';

/**
 * The test build may also reach the loopback test server: Chrome match patterns without a port
 * match every port, which the journeys need (the server listens on a random free port).
 * The shipped builds never contain these.
 */
const TEST_ONLY_HOSTS = ['http://127.0.0.1/*', 'http://localhost/*'];

/** The Firefox add-on id (fixes the moz-extension:// host in tests through `extensions.webextensions.uuids`). */
export const GECKO_ID = 'latchkey@latchkey.dev';

/** One manifest, with the browser differences generated here rather than kept in two files. */
export function manifestFor(target: BuildTarget) {
  const firefox = target === 'firefox';
  return defineManifest({
    manifest_version: 3,
    name: target === 'chromium-test' ? 'Latchkey (test build)' : 'Latchkey',
    short_name: 'Latchkey',
    version: pkg.version,
    description: 'Two-factor codes for your package index, kept in an encrypted vault and filled only on the exact site.',
    icons: { 16: 'icons/icon-16.png', 32: 'icons/icon-32.png', 48: 'icons/icon-48.png', 128: 'icons/icon-128.png' },
    action: {
      default_title: 'Latchkey',
      default_popup: 'src/popup/index.html',
      default_icon: { 16: 'icons/icon-16.png', 32: 'icons/icon-32.png' },
    },
    background: firefox ? { scripts: ['src/background/index.ts'], type: 'module' } : { service_worker: 'src/background/index.ts', type: 'module' },
    permissions: ['activeTab', 'scripting', 'storage', 'alarms'],
    host_permissions: [...INDEX_ORIGINS.map((origin) => `${origin}/*`), ...(target === 'chromium-test' ? TEST_ONLY_HOSTS : [])],
    optional_host_permissions: ['https://*/*', 'http://*/*'],
    commands: {
      'fill-totp': {
        suggested_key: { default: 'Alt+Shift+L' },
        description: 'Fill the two-factor code for this site',
      },
    },
    // The vault's argon2id runs as WebAssembly, which MV3 allows only with 'wasm-unsafe-eval'.
    content_security_policy: { extension_pages: "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'" },
    ...(firefox
      ? {
          browser_specific_settings: {
            gecko: {
              id: GECKO_ID,
              // 140 (ESR): the first with data_collection_permissions; storage.session is older (115).
              strict_min_version: '140.0',
              // Firefox's built-in data consent: Latchkey sends nothing anywhere (codes stay in the vault).
              data_collection_permissions: { required: ['none'] },
            },
            gecko_android: { strict_min_version: '142.0' },
          },
        }
      : { minimum_chrome_version: '116' }),
  } as Parameters<typeof defineManifest>[0]);
}
