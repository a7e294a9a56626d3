import { test as base } from '@playwright/test';
import type { BrowserContext, Page } from 'playwright-core';
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
  /** Chromium with the extension test build loaded (a fresh profile per test, so a fresh vault). */
  extension: BrowserWithExtension;
  /** `extension.context`, for tests that only need the context. */
  extensionContext: BrowserContext;
  /** A tab in `extensionContext`. */
  extensionPage: Page;
}

/**
 * Playwright `test` with the kit's fixtures. Import it instead of `@playwright/test`'s:
 *
 * @example
 * ```ts
 * import { test, expect } from '@latchkey/test/fixtures';
 * test('fills from the popup', async ({ extension, extensionPage }) => {
 *   const popup = await openPopup(extension.context, { forPage: extensionPage });
 * });
 * ```
 */
export const test = base.extend<LatchkeyTestFixtures, LatchkeyWorkerOptions>({
  dialect: ['sqlite', { option: true, scope: 'worker' }],
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
