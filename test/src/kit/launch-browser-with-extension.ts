import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Worker } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from './chromium.js';
import { rememberLaunch } from './launch-registry.js';

/** The extension test build: shipped build + the test server's origin in host_permissions (extension/vite config). */
export const DEFAULT_EXTENSION_PATH = fileURLToPath(new URL('../../../extension/dist/chromium-test', import.meta.url));

export interface LaunchBrowserWithExtensionOptions {
  /** Unpacked extension directory (holding manifest.json). Default: `extension/dist/chromium-test`. */
  extensionPath?: string;
  /** Default `true`. `LATCHKEY_HEADED=1` in the environment also shows the window. */
  headless?: boolean;
  /** Extra Chromium arguments, after the kit's own. */
  args?: string[];
  /** Milliseconds to wait for the extension's service worker. Default 15 000. */
  timeout?: number;
}

export interface BrowserWithExtension {
  /** A persistent context (extensions need one); open pages with `context.newPage()`. */
  context: BrowserContext;
  /** The 32-letter id Chromium gave the unpacked extension (from its service worker URL). */
  extensionId: string;
  /** The extension's service worker, for `evaluate` in the background (e.g. `chrome.storage`). */
  serviceWorker: Worker;
  /** The DevTools HTTP endpoint of this browser, e.g. `http://127.0.0.1:39321`. */
  devtoolsUrl: string;
  /** Closes the browser and deletes its throw-away profile. */
  close(): Promise<void>;
}

/**
 * Starts Debian's Chromium with an unpacked extension loaded, in a throw-away profile, with a
 * DevTools endpoint on a free loopback port (what {@link openPopup} uses to reach the popup).
 * Build the extension's test build once before the run (`npm run build:test -w extension`); this only loads it.
 *
 * @example
 * ```ts
 * const { context, extensionId, close } = await launchBrowserWithExtension();
 * const page = await context.newPage();
 * await page.goto(`${server.url}/account/login/`);
 * const popup = await openPopup(context, { forPage: page });
 * await close();
 * ```
 */
export async function launchBrowserWithExtension(options: LaunchBrowserWithExtensionOptions = {}): Promise<BrowserWithExtension> {
  const extensionPath = resolve(options.extensionPath ?? DEFAULT_EXTENSION_PATH);
  const manifestPath = join(extensionPath, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new Error(
      `launchBrowserWithExtension: no manifest.json in ${extensionPath}. Build the extension first: ` +
        '`npm run build:test -w extension` writes the test build extension/dist/chromium-test, the default ' +
        '(a plain `npm run build` writes only dist/chromium and dist/firefox; `npm test` writes it too, `npm run dev` writes dist/chromium-dev instead).',
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { manifest_version?: number; action?: { default_popup?: string } };
  if (manifest.manifest_version !== 3) throw new Error(`launchBrowserWithExtension: ${manifestPath} is not a Manifest V3 extension`);

  const userDataDir = mkdtempSync(join(tmpdir(), 'latchkey-chromium-'));
  const headless = options.headless ?? process.env.LATCHKEY_HEADED !== '1';
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_EXECUTABLE,
      headless,
      args: [
        ...CHROMIUM_ARGS,
        `--disable-extensions-except=${extensionPath}`,
        `--load-extension=${extensionPath}`,
        // Port 0: Chromium picks a free port and writes it to <user-data-dir>/DevToolsActivePort.
        '--remote-debugging-address=127.0.0.1',
        '--remote-debugging-port=0',
        ...(options.args ?? []),
      ],
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }

  // Chromium may still be flushing the profile when the context reports closed: retry, and never let a
  // leftover temp directory fail a test.
  const removeProfile = () => rm(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }).catch(() => undefined);
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= context.close().then(removeProfile));
  context.on('close', () => void removeProfile());
  try {
    const timeout = options.timeout ?? 15_000;
    const serviceWorker =
      context.serviceWorkers().find((worker) => worker.url().startsWith('chrome-extension://')) ??
      (await context.waitForEvent('serviceworker', { predicate: (worker) => worker.url().startsWith('chrome-extension://'), timeout }));
    const extensionId = new URL(serviceWorker.url()).host;
    const devtoolsUrl = `http://127.0.0.1:${await readDevToolsPort(userDataDir, timeout)}`;
    rememberLaunch(context, { extensionId, devtoolsUrl, popupPath: manifest.action?.default_popup });
    return { context, extensionId, serviceWorker, devtoolsUrl, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function readDevToolsPort(userDataDir: string, timeout: number): Promise<number> {
  const file = join(userDataDir, 'DevToolsActivePort');
  const deadline = Date.now() + timeout;
  for (;;) {
    if (existsSync(file)) {
      const port = Number(readFileSync(file, 'utf8').split('\n')[0]);
      if (Number.isInteger(port) && port > 0) return port;
    }
    if (Date.now() > deadline) throw new Error(`Chromium wrote no DevTools port to ${file} within ${timeout} ms`);
    await new Promise((done) => setTimeout(done, 50));
  }
}
