import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test as base } from '@playwright/test';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_HEADLESS_SHELL_EXECUTABLE } from './chromium.js';
import { launchBrowserWithExtension, type BrowserWithExtension } from './launch-browser-with-extension.js';
import { startMailCatcher, type MailCatcher } from './start-mail-catcher.js';
import { startTestServer, type TestServer } from './start-test-server.js';

/** Options set per Playwright project (see test/playwright.config.ts). */
export interface LatchkeyWorkerOptions {
  /** Database backend of the worker's test server. */
  dialect: 'sqlite' | 'postgres';
}

export interface LatchkeyTestFixtures {
  /** The SMTP server the test's server delivers to: read the mail a journey caused and follow its links. */
  mail: MailCatcher;
  /**
   * A server of the project's dialect with its own throw-away database, one per test: per-IP rate
   * limits, the clock offset and the data of one journey cannot leak into another.
   */
  server: TestServer;
  /** Chromium with the extension test build loaded (a fresh profile per test, so no vault yet: `createVault`). */
  extension: BrowserWithExtension;
  /** `extension.context`, for tests that only need the context. */
  extensionContext: BrowserContext;
  /** A tab in `extensionContext`. */
  extensionPage: Page;
}

/**
 * Where `@playwright/test` resolves from `fromFile`, through symlinks (`file:` dependencies, `npm link`),
 * or `undefined` when it does not.
 */
function resolvePlaywrightTest(fromFile: string): string | undefined {
  try {
    return dirname(realpathSync(createRequire(fromFile).resolve('@playwright/test')));
  } catch {
    return undefined;
  }
}

/**
 * Playwright refuses a test declared through a second copy of itself ("Playwright Test did not expect
 * test() to be called here"), which names neither copy. A project that installs its own
 * `@playwright/test` and imports these fixtures has exactly that: `npx playwright` runs the project's
 * copy, these fixtures extend the kit's. Say so, and how to use one copy.
 */
function assertOnePlaywright(kitCopy: string | undefined, projectDirectory: string): void {
  const projectCopy = resolvePlaywrightTest(join(projectDirectory, 'package.json'));
  if (kitCopy === undefined || projectCopy === undefined || projectCopy === kitCopy) return;
  throw new Error(
    `@latchkey/test/fixtures: two copies of @playwright/test — this project's (${projectCopy}) runs the tests, ` +
      `the kit's fixtures are built on the kit's (${kitCopy}), and Playwright refuses a test from the other copy. ` +
      `Depend on the kit's copy instead: npm install --save-dev ${kitCopy}`,
  );
}

// `npx playwright` runs the copy installed where it is started: the project's directory.
assertOnePlaywright(resolvePlaywrightTest(import.meta.url), process.cwd());

/**
 * Playwright `test` with the kit's fixtures. Import it instead of `@playwright/test`'s:
 *
 * @example
 * ```ts
 * import { createVault, openPopup } from '@latchkey/test';
 * import { test, expect } from '@latchkey/test/fixtures';
 * test('fills from the popup', async ({ server, extension, extensionPage }) => {
 *   await extensionPage.goto(`${server.url}/account/login/`);
 *   const popup = await openPopup(extension.context, { forPage: extensionPage });
 *   await createVault(popup, 'correct horse battery staple'); // each test's profile starts without a vault
 * });
 * ```
 */
export const test = base.extend<LatchkeyTestFixtures, LatchkeyWorkerOptions>({
  dialect: ['sqlite', { option: true, scope: 'worker' }],
  // Playwright's own `page` and `browser` would look for a browser downloaded by `npx playwright install`;
  // the kit uses Debian's (LATCHKEY_CHROMIUM_HEADLESS_SHELL to change it). A config's `use.launchOptions` still wins.
  // A plain value keeps Playwright's registration (a worker-scoped option).
  launchOptions: { executablePath: CHROMIUM_HEADLESS_SHELL_EXECUTABLE, args: [...CHROMIUM_ARGS] },
  mail: async ({}, use) => {
    const mail = await startMailCatcher();
    await use(mail);
    await mail.close();
  },
  server: async ({ dialect, mail }, use) => {
    const server = await startTestServer({ dialect, smtpUrl: mail.url });
    await use(server);
    await server.close();
  },
  extension: async ({}, use) => {
    const browser = await launchBrowserWithExtension();
    await use(browser);
    await browser.close();
  },
  extensionContext: async ({ extension }, use) => {
    await use(extension.context);
  },
  extensionPage: async ({ extension }, use) => {
    const page = extension.context.pages()[0] ?? (await extension.context.newPage());
    await use(page);
  },
});

export { expect } from '@playwright/test';
