import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_HEADLESS_SHELL_EXECUTABLE } from './src/kit/chromium.js';
import { POSTGRES_TOO } from './e2e/projects.js';
import type { LatchkeyWorkerOptions } from './src/kit/fixtures.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
// Playwright empties its output folder at start; a second run at the same time (another terminal)
// can point elsewhere with LATCHKEY_E2E_OUTPUT instead of deleting this run's screenshots and error contexts.
const outputRoot = process.env.LATCHKEY_E2E_OUTPUT ?? `${repoRoot}test-results`;

// Playwright's own message ("executable doesn't exist") does not say where the browser comes from.
if (!existsSync(CHROMIUM_HEADLESS_SHELL_EXECUTABLE)) {
  console.warn(
    `No ${CHROMIUM_HEADLESS_SHELL_EXECUTABLE}: the journeys of server pages run in Debian's headless shell. ` +
      'Install it with `apt-get install chromium-headless-shell` (`npm test` does), or point LATCHKEY_CHROMIUM_HEADLESS_SHELL at one.',
  );
}

/**
 * Journeys run against a real server and, where the journey needs it, the real extension test build
 * (built once into extension/dist/chromium-test by `LATCHKEY_TEST_BUILD=1 npm run build`, as scripts/test.sh does,
 * or `npm run build:test -w extension`; never rebuilt per test).
 * Every journey runs in the `sqlite` project; those tagged {@link POSTGRES_TOO} also in the `postgres`
 * project, which differs only in the `dialect` option (the throw-away database of the test's server).
 * `kit` runs the testing kit's own browser self-tests once (they need no server). `firefox` runs the
 * Firefox journeys (real Firefox ESR through puppeteer-core, the shipped extension/dist/firefox) on SQLite.
 */
export default defineConfig<object, LatchkeyWorkerOptions>({
  testDir: 'e2e',
  outputDir: `${outputRoot}/e2e`,
  // 2 cores shared by Chromium, the server (argon2 on the libuv pool) and PostgreSQL: two workers
  // keep both cores busy without journeys starving each other into timeouts.
  workers: Number(process.env.LATCHKEY_E2E_WORKERS ?? 2),
  fullyParallel: true,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  // Generous: the slow parts are deliberate (argon2id in the vault KDF) and CI machines are shared.
  timeout: 240_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { outputFolder: `${outputRoot}/e2e-report`, open: 'never' }]],
  use: {
    headless: true,
    // The `page` and `browser` fixtures (server pages only) run in the headless shell; the extension
    // journeys launch the full browser themselves (kit: launchBrowserWithExtension).
    launchOptions: { executablePath: CHROMIUM_HEADLESS_SHELL_EXECUTABLE, args: [...CHROMIUM_ARGS] },
    // No trace in `npm test`: recording one for every journey in order to keep it on failure (DOM
    // snapshots at each action, written as it goes) cost 56 of the journeys' 454 CPU s and 29 s of their
    // 271 s on 2 cores (measured 2026-11-30). A failure still leaves its screenshot and error context;
    // to trace, rerun the journey with `--trace retain-on-failure` (docs/testing.md).
    trace: 'off',
    screenshot: 'only-on-failure',
    actionTimeout: 20_000,
    navigationTimeout: 15_000,
  },
  projects: [
    // First, so its long serial file (one Firefox for all steps, a 45 s idle wait) starts at once
    // and runs beside the Chromium journeys on the other worker rather than last.
    { name: 'firefox', testMatch: /firefox-.*\.spec\.ts$/, use: { dialect: 'sqlite' } },
    { name: 'kit', testMatch: /kit\.spec\.ts$/ },
    { name: 'sqlite', testIgnore: [/kit\.spec\.ts$/, /firefox-.*\.spec\.ts$/], use: { dialect: 'sqlite' } },
    { name: 'postgres', testIgnore: [/kit\.spec\.ts$/, /firefox-.*\.spec\.ts$/], grep: new RegExp(POSTGRES_TOO), use: { dialect: 'postgres' } },
  ],
});
