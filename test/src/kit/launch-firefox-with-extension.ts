import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * Debian's Firefox ESR (`apt-get install firefox-esr`), never a downloaded build. Override with
 * `LATCHKEY_FIREFOX` (e.g. a Firefox release elsewhere; 140 or newer).
 */
export const FIREFOX_EXECUTABLE = process.env.LATCHKEY_FIREFOX ?? '/usr/bin/firefox-esr';

/** The shipped Firefox build (`npm run build` writes it): no test-only host permissions needed. */
export const DEFAULT_FIREFOX_EXTENSION_PATH = fileURLToPath(new URL('../../../extension/dist/firefox', import.meta.url));

export interface LaunchFirefoxWithExtensionOptions {
  /** Unpacked Firefox build (holding manifest.json with a gecko id). Default: `extension/dist/firefox`. */
  extensionPath?: string;
  /** Default `true`. `LATCHKEY_HEADED=1` in the environment also shows the window. */
  headless?: boolean;
  /** Extra Firefox preferences, after the kit's own. */
  prefs?: Record<string, string | number | boolean>;
  /** Send the extension's console output (background and popup) to this process's stdout. Default: `LATCHKEY_FIREFOX_CONSOLE=1`. */
  extensionConsole?: boolean;
  /** Milliseconds to wait for the browser to start. Default 60 000. */
  timeout?: number;
}

export interface OpenFirefoxPopupOptions {
  /** Milliseconds to wait for the popup to render its first screen. Default 30 000. */
  timeout?: number;
}

export interface FirefoxWithExtension {
  /** The puppeteer-core browser (WebDriver BiDi): `browser.newPage()` opens a tab. */
  browser: Browser;
  /** The add-on id from the manifest (`browser_specific_settings.gecko.id`). */
  addonId: string;
  /** `moz-extension://<uuid>/`, fixed for this launch. */
  extensionUrl: string;
  /**
   * Opens the extension's popup page for `forPage`'s tab, as the toolbar button would: the popup
   * document loads while `forPage` is the active tab (so its `tabs.query({active, currentWindow})`
   * is that tab), then comes to the front so it can be clicked and read.
   */
  openPopup(forPage: Page, options?: OpenFirefoxPopupOptions): Promise<Page>;
  /** Closes Firefox and deletes its throw-away profile. */
  close(): Promise<void>;
}

interface BidiConnection {
  send(method: string, params: object): Promise<unknown>;
}

/**
 * Starts Debian's Firefox ESR with the Firefox build of the extension installed as a temporary
 * add-on, driven by puppeteer-core over WebDriver BiDi (Playwright cannot drive stock Firefox).
 * Build the extension first (`npm run build`); this only installs it (~0.2 s).
 *
 * What the kit sets up, and why (measured on Firefox ESR 153):
 * - `--remote-allow-system-access` lets BiDi navigate a tab to a moz-extension:// page;
 * - `extensions.webextensions.uuids` fixes the add-on's moz-extension:// host to a known uuid;
 * - `extensions.webextOptionalPermissionPrompts=false` accepts optional host-permission requests
 *   (the add form asks for a self-hosted server's `scheme://host/*`), as a person clicking Allow.
 * Firefox has no toolbar-popup automation: {@link FirefoxWithExtension.openPopup} loads the popup
 * page in a background tab instead, which sees the same APIs and the same active tab.
 *
 * @example
 * ```ts
 * const firefox = await launchFirefoxWithExtension();
 * const page = await firefox.browser.newPage();
 * await page.goto(`${server.url}/account/login/`);
 * const popup = await firefox.openPopup(page);
 * await popup.locator('::-p-text(Set up Latchkey)').wait();
 * await firefox.close();
 * ```
 */
export async function launchFirefoxWithExtension(options: LaunchFirefoxWithExtensionOptions = {}): Promise<FirefoxWithExtension> {
  const extensionPath = resolve(options.extensionPath ?? DEFAULT_FIREFOX_EXTENSION_PATH);
  const manifestPath = join(extensionPath, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new Error(
      `launchFirefoxWithExtension: no manifest.json in ${extensionPath}. Build the extension first (\`npm run build\` writes extension/dist/firefox).`,
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    action?: { default_popup?: string };
    browser_specific_settings?: { gecko?: { id?: string } };
  };
  const addonId = manifest.browser_specific_settings?.gecko?.id;
  if (!addonId) throw new Error(`launchFirefoxWithExtension: ${manifestPath} has no browser_specific_settings.gecko.id (is it the Firefox build?)`);
  const popupPath = manifest.action?.default_popup;
  if (!popupPath) throw new Error(`launchFirefoxWithExtension: ${manifestPath} has no action.default_popup`);
  if (!existsSync(FIREFOX_EXECUTABLE)) {
    throw new Error(`launchFirefoxWithExtension: no Firefox at ${FIREFOX_EXECUTABLE} (apt-get install firefox-esr, or set LATCHKEY_FIREFOX)`);
  }

  const uuid = randomUUID();
  const extensionConsole = options.extensionConsole ?? process.env.LATCHKEY_FIREFOX_CONSOLE === '1';
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_EXECUTABLE,
    headless: options.headless ?? process.env.LATCHKEY_HEADED !== '1',
    args: ['--remote-allow-system-access'],
    timeout: options.timeout ?? 60_000,
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [addonId]: uuid }),
      'extensions.webextOptionalPermissionPrompts': false,
      'devtools.console.stdout.content': extensionConsole,
      // Loopback only: no update, telemetry or safe-browsing traffic from the test browser.
      'app.update.enabled': false,
      'extensions.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      ...options.prefs,
    },
  });
  try {
    await browser.installExtension(extensionPath);
  } catch (error) {
    await browser.close();
    throw error;
  }
  const extensionUrl = `moz-extension://${uuid}/`;
  const popupUrl = `${extensionUrl}${popupPath.replace(/^\//, '')}`;
  const connection = (browser as unknown as { connection: BidiConnection }).connection;

  async function openPopup(forPage: Page, popupOptions: OpenFirefoxPopupOptions = {}): Promise<Page> {
    const timeout = popupOptions.timeout ?? 30_000;
    await forPage.bringToFront();
    const popup = await browser.newPage({ background: true });
    // page.goto() to a moz-extension:// URL never resolves over BiDi; the raw command does.
    const context = (popup.mainFrame() as unknown as { _id: string })._id;
    await connection.send('browsingContext.navigate', { context, url: popupUrl, wait: 'complete' });
    // The popup asks for the active tab while it shows "loading"; once a screen is up it has asked.
    await popup.waitForFunction(() => document.querySelector('main') !== null && document.querySelector('main[aria-busy="true"]') === null, { timeout });
    await popup.bringToFront();
    return popup;
  }

  return { browser, addonId, extensionUrl, openPopup, close: () => browser.close() };
}
