import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ROUTES } from '@latchkey/shared';
import type { TestInfo } from '@playwright/test';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';

// Small page helpers for the Firefox journeys (puppeteer-core over WebDriver BiDi has no
// getByRole/getByLabel): find by the text a person sees, act with real input events.

const WAIT = { timeout: 30_000 };

/** Wait until the page shows `text` (in its rendered text) and return. */
export async function waitForText(page: Page, text: string, timeout = WAIT.timeout): Promise<void> {
  await page.waitForFunction((t) => document.body?.innerText.includes(t) === true, { timeout }, text);
}

/** Wait until the page no longer shows `text`. */
export async function waitForNoText(page: Page, text: string, timeout = WAIT.timeout): Promise<void> {
  await page.waitForFunction((t) => document.body?.innerText.includes(t) === false, { timeout }, text);
}

/** Visible, enabled buttons (and tabs) whose accessible name (aria-label, else text) is exactly `name`. */
async function buttonsNamed(page: Page, name: string): Promise<Array<ElementHandle<HTMLButtonElement>>> {
  const list = await page.evaluateHandle(
    (n) =>
      Array.from(document.querySelectorAll<HTMLButtonElement>('button, [role="tab"]')).filter((element) => {
        const accessible = element.getAttribute('aria-label') ?? element.textContent?.replace(/\s+/g, ' ').trim() ?? '';
        return accessible === n && element.offsetParent !== null && !element.disabled;
      }),
    name,
  );
  const properties = await list.getProperties();
  await list.dispose();
  return [...properties.values()].map((handle) => handle.asElement()).filter((h) => h !== null) as Array<ElementHandle<HTMLButtonElement>>;
}

/** The enabled, visible button named exactly `name` (waits for it; the last one when several). */
export async function button(page: Page, name: string, timeout = WAIT.timeout): Promise<ElementHandle<HTMLButtonElement>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const found = await buttonsNamed(page, name);
    if (found.length > 0) return found.at(-1)!;
    if (Date.now() > deadline)
      throw new Error(`no enabled button named "${name}" within ${timeout} ms; the page shows: ${await page.evaluate(() => document.body?.innerText)}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** How many visible, enabled buttons are named exactly `name` now. */
export async function countButtons(page: Page, name: string): Promise<number> {
  return (await buttonsNamed(page, name)).length;
}

/** Click the button named `name` with a real pointer click. */
export async function click(page: Page, name: string): Promise<void> {
  await (await button(page, name)).click();
}

/** The form control labelled `label` (a `<label for>` whose text is exactly `label`). */
export async function field(page: Page, label: string): Promise<ElementHandle<HTMLInputElement>> {
  const handle = await page.waitForFunction(
    (text) => {
      const found = Array.from(document.querySelectorAll('label')).find((l) => l.textContent?.trim() === text);
      return found?.htmlFor ? document.getElementById(found.htmlFor) : null;
    },
    WAIT,
    label,
  );
  return handle as ElementHandle<HTMLInputElement>;
}

/** Replace the value of the field labelled `label` by typing `value` (real key events). */
export async function type(page: Page, label: string, value: string): Promise<void> {
  const input = await field(page, label);
  await input.click({ count: 3 });
  await input.evaluate((element) => {
    element.select();
  });
  await page.keyboard.press('Backspace');
  await input.type(value);
}

/** On the set-up screen of a fresh popup: create the vault with `passphrase` and wait for the empty list. */
export async function createVaultInFirefox(popup: Page, passphrase: string): Promise<void> {
  await waitForText(popup, 'Set up Latchkey');
  await type(popup, 'Passphrase', passphrase);
  await type(popup, 'Confirm passphrase', passphrase);
  await click(popup, 'Create vault');
  await waitForText(popup, 'No accounts yet', 60_000);
}

/**
 * The tab whose address ends with `urlEnd`, once one does. Over BiDi puppeteer never learns the address of a
 * tab that an extension opened on a moz-extension:// page (its `url()` stays about:blank), so the tab is
 * found in the browser's own list of browsing contexts and matched to its puppeteer page by id.
 */
export async function tabAt(browser: Browser, urlEnd: string, timeout = WAIT.timeout): Promise<Page> {
  const connection = (
    browser as unknown as { connection: { send(method: string, params: object): Promise<{ result: { contexts: Array<{ context: string; url: string }> } }> } }
  ).connection;
  const deadline = Date.now() + timeout;
  for (;;) {
    const { contexts } = (await connection.send('browsingContext.getTree', {})).result;
    const context = contexts.find((candidate) => candidate.url.endsWith(urlEnd))?.context;
    const page = context ? (await browser.pages()).find((candidate) => (candidate.mainFrame() as unknown as { _id: string })._id === context) : undefined;
    if (page) return page;
    if (Date.now() > deadline) throw new Error(`no tab at …${urlEnd} within ${timeout} ms; tabs: ${contexts.map((c) => c.url).join(', ')}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** The password step of the server's login, ending on the two-factor page. */
export async function logIn(page: Page, origin: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${origin}${ROUTES.login}`);
  await type(page, 'Username', user.username);
  await type(page, 'Password', user.password);
  await Promise.all([page.waitForNavigation(), click(page, 'Log in')]);
}

const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/**
 * Screenshot the popup's document (its `<body>`, 360 px wide, as the toolbar shows it): into
 * docs/screenshots/ when LATCHKEY_UPDATE_SCREENSHOTS=1, otherwise into the test's output folder.
 */
export async function screenshotFirefoxPopup(popup: Page, name: string, testInfo: TestInfo): Promise<void> {
  const forDocs = process.env.LATCHKEY_UPDATE_SCREENSHOTS === '1';
  if (forDocs) mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = forDocs ? `${SCREENSHOT_DIR}${name}.png` : testInfo.outputPath(`${name}.png`);
  const body = await popup.$('body');
  await body!.screenshot({ path: path as `${string}.png` });
}
