import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from './src/kit/chromium.js';
import { POSTGRES_TOO } from './e2e/projects.js';
import type { LatchkeyWorkerOptions } from './src/kit/fixtures.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
// Playwright empties its output folder at start; a second run at the same time (another terminal)
// can point elsewhere with LATCHKEY_E2E_OUTPUT instead of deleting this run's traces.
const outputRoot = process.env.LATCHKEY_E2E_OUTPUT ?? `${repoRoot}test-results`;

/**
 * Journeys run against a real server and, where the journey needs it, the real extension test build
 * (built once by `npm run build` into extension/dist/chromium-test; never rebuilt per test).
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
    launchOptions: { executablePath: CHROMIUM_EXECUTABLE, args: [...CHROMIUM_ARGS] },
    // A failed journey keeps its trace: actions, DOM snapshots, console and network. Not the screencast:
    // encoding its frames was a third of Chromium's browser-process CPU in the journeys on a slow 2-core
    // machine; the failure screenshot below shows the end state.
    trace: { mode: 'retain-on-failure', screenshots: false },
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
