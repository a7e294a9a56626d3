import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { expect, type TestInfo } from '@playwright/test';
import type { Locator, Page } from 'playwright-core';

const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/**
 * Screenshot for the README walkthrough: into docs/screenshots/ when LATCHKEY_UPDATE_SCREENSHOTS=1
 * (and only from the SQLite project, so two projects never race for one file), otherwise into the
 * test's output folder, so ordinary runs leave the working tree clean.
 */
export async function saveScreenshot(target: Page | Locator, name: string, testInfo: TestInfo): Promise<void> {
  const forDocs = process.env.LATCHKEY_UPDATE_SCREENSHOTS === '1' && testInfo.project.name === 'sqlite';
  if (forDocs) mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = forDocs ? `${SCREENSHOT_DIR}${name}.png` : testInfo.outputPath(`${name}.png`);
  // A page is taken whole; a locator (one section of a page) as it is.
  await ('goto' in target ? target.screenshot({ path, fullPage: true }) : target.screenshot({ path }));
}

/** Types the username and password into the login page and presses "Log in". */
export async function logIn(page: Page, origin: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${origin}${ROUTES.login}`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Presses "Log out" in the header and checks the login link is back. */
export async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page.getByRole('link', { name: 'Log in' }).first()).toBeVisible();
}

/** Types a code into the two-factor page's TOTP field and presses "Verify". */
export async function enterTotp(page: Page, code: string): Promise<void> {
  await page.locator(`input[name="${FIELDS.totpValue}"]`).fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
}

export const TWO_FACTOR_URL = new RegExp(`${ROUTES.twoFactor.replace(/\//g, '\\/')}\\?token=`);
export const ACCOUNT_URL = new RegExp(`${ROUTES.manageAccount.replace(/\//g, '\\/')}$`);

type StatusLogWindow = Window & { latchkeyKeyStatusLog?: string[] };

/**
 * Start recording every text the two-factor page's security-key status region shows. The region is
 * overwritten as the ceremony moves on ("Touch your security key." → "Checking…" or an error), so
 * a snapshot taken later cannot tell whether the ceremony ever started; the log can.
 */
export async function recordKeyStatus(page: Page): Promise<void> {
  await page.evaluate(() => {
    const region = document.getElementById('webauthn-status');
    const log: string[] = [];
    (window as StatusLogWindow).latchkeyKeyStatusLog = log;
    if (!region) return;
    new MutationObserver(() => log.push(region.textContent ?? '')).observe(region, { childList: true, characterData: true, subtree: true });
  });
}

/**
 * The page's own "Use security key" script ran and asked the browser for the key (the popup's
 * hand-off worked), or the key already signed the user in. Measured on headless Chromium 156: a
 * ceremony started while the extension popup had focus may stay pending or be refused for lack of
 * focus, where a desktop browser returns focus to the tab and the key answers; so completion is
 * accepted but not required here. Key logins themselves are covered by the webauthn journeys.
 * Call {@link recordKeyStatus} before the hand-off.
 */
export async function expectKeyCeremonyStarted(page: Page): Promise<void> {
  await page.bringToFront();
  await expect
    .poll(
      async () => {
        if (ACCOUNT_URL.test(page.url())) return 'signed in';
        try {
          return (await page.evaluate(() => (window as StatusLogWindow).latchkeyKeyStatusLog ?? [])).join(' | ');
        } catch {
          return 'navigating'; // the page is changing under us: ask again
        }
      },
      { timeout: 20_000 },
    )
    .toMatch(/signed in|Touch your security key/);
}

/**
 * From the one-time "Save your recovery codes" page: read the set, go on to the burn step and type one
 * code back, as a person who saved them would. Returns the codes that are still unused.
 */
export async function saveAndConfirmRecoveryCodes(page: Page): Promise<string[]> {
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  const codes = (await page.locator('#recovery-codes code').allTextContents()).map((code) => code.trim());
  expect(codes).toHaveLength(8);
  await page.getByRole('link', { name: 'I have saved my recovery codes' }).click();
  await expect(page.getByRole('heading', { name: 'Confirm your recovery codes' })).toBeVisible();
  await page.getByLabel('One of your new recovery codes').fill(codes[0]!);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page).toHaveURL(ACCOUNT_URL);
  await expect(page.getByText('Recovery codes confirmed.')).toBeVisible();
  return codes.slice(1);
}
