import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchInfo } from './launch-registry.js';

export interface OpenPopupOptions {
  /** The page the popup is for: brought to the front first, so the popup is attached to its tab. */
  forPage: Page;
  /** Milliseconds to wait for the popup to appear. Default 10 000. */
  timeout?: number;
}

interface DevtoolsTarget {
  id: string;
  type: string;
  url: string;
}

/** DevTools connections opened for popups, per browser, closed with it. */
const popupConnections = new WeakMap<BrowserContext, Set<Browser>>();

/**
 * Opens the extension's real toolbar popup, attached to `forPage`'s tab, and returns it as a
 * Playwright `Page` you can click in, fill, read and screenshot.
 *
 * How: `chrome.action.openPopup()` is evaluated in the extension's service worker while `forPage`
 * is the active tab. Playwright does not list extension popups among a context's pages (nor does a
 * CDP connection made before the popup opened pick it up), so once the popup shows in the browser's
 * DevTools `/json/list`, a fresh `connectOverCDP` connection to the port Chromium wrote to
 * `DevToolsActivePort` attaches to it. Measured on Debian's Chromium 156 headless: the popup opens
 * without a user gesture, and `tabs.query({active: true, currentWindow: true})` in it returns
 * `forPage`'s tab.
 *
 * What a programmatic open does NOT grant: `activeTab`. Unlike a click on the toolbar icon, it gives
 * the extension no temporary access to the tab — `tab.url` reads as undefined and
 * `scripting.executeScript` is refused — unless the extension holds a host permission for the page's
 * origin. That is why journeys load the test build (`extension/dist/chromium-test`), whose
 * `host_permissions` include the test server's origin; the shipped build has no such permission.
 * (Evaluating `openPopup()` over raw CDP `Runtime.evaluate` with `userGesture: true` was measured too:
 * same result, no `activeTab` grant.) The popup is not recorded in Playwright traces of the context.
 *
 * @example
 * ```ts
 * const { context } = await launchBrowserWithExtension();
 * const page = await context.newPage();
 * await page.goto(twoFactorUrl);
 * const popup = await openPopup(context, { forPage: page });
 * await popup.getByRole('button', { name: 'Fill' }).click();
 * ```
 */
export async function openPopup(context: BrowserContext, options: OpenPopupOptions): Promise<Page> {
  const { extensionId, devtoolsUrl, popupPath } = launchInfo(context);
  if (popupPath === undefined) throw new Error('openPopup: the extension manifest has no action.default_popup');
  const timeout = options.timeout ?? 10_000;
  const popupUrl = `chrome-extension://${extensionId}/${popupPath.replace(/^\//, '')}`;
  const isPopup = (target: DevtoolsTarget) => target.type === 'page' && target.url.split(/[?#]/)[0] === popupUrl;

  // A popup still open from an earlier call would make openPopup() a no-op; close it like a click elsewhere would.
  for (const stale of (await listTargets(devtoolsUrl)).filter(isPopup)) {
    await fetch(`${devtoolsUrl}/json/close/${stale.id}`);
  }
  await options.forPage.bringToFront();

  const worker = context.serviceWorkers().find((candidate) => candidate.url().startsWith(`chrome-extension://${extensionId}/`));
  if (worker === undefined) throw new Error(`openPopup: the service worker of extension ${extensionId} is not running`);
  await worker.evaluate(() => (globalThis as unknown as { chrome: { action: { openPopup(): Promise<void> } } }).chrome.action.openPopup());

  const deadline = Date.now() + timeout;
  while (!(await listTargets(devtoolsUrl)).some(isPopup)) {
    if (Date.now() > deadline) throw new Error(`openPopup: ${popupUrl} did not open within ${timeout} ms`);
    await new Promise((done) => setTimeout(done, 50));
  }

  const devtools = await chromium.connectOverCDP(devtoolsUrl);
  let connections = popupConnections.get(context);
  if (connections === undefined) {
    const created = new Set<Browser>();
    popupConnections.set(context, created);
    // close() on a CDP-connected browser only disconnects; the browser keeps running.
    context.on('close', () => created.forEach((connection) => void connection.close().catch(() => undefined)));
    connections = created;
  }
  connections.add(devtools);
  const popup = devtools
    .contexts()
    .flatMap((candidate) => candidate.pages())
    .find((page) => page.url().split(/[?#]/)[0] === popupUrl);
  if (popup === undefined) {
    await devtools.close();
    throw new Error(`openPopup: ${popupUrl} closed before it could be attached`);
  }
  popup.on('close', () => {
    connections.delete(devtools);
    void devtools.close().catch(() => undefined);
  });
  await popup.waitForLoadState('domcontentloaded');
  return popup;
}

async function listTargets(devtoolsUrl: string): Promise<DevtoolsTarget[]> {
  const response = await fetch(`${devtoolsUrl}/json/list`);
  if (!response.ok) throw new Error(`openPopup: ${devtoolsUrl}/json/list answered ${response.status}`);
  return (await response.json()) as DevtoolsTarget[];
}
