import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { expect, type TestInfo } from '@playwright/test';
import type { Page } from 'playwright-core';

const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/**
 * Screenshot for the README walkthrough: into docs/screenshots/ when LATCHKEY_UPDATE_SCREENSHOTS=1
 * (and only from the SQLite project, so two projects never race for one file), otherwise into the
 * test's output folder, so ordinary runs leave the working tree clean.
 */
export async function saveScreenshot(target: Page, name: string, testInfo: TestInfo): Promise<void> {
  const forDocs = process.env.LATCHKEY_UPDATE_SCREENSHOTS === '1' && testInfo.project.name === 'sqlite';
  if (forDocs) mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await target.screenshot({ path: forDocs ? `${SCREENSHOT_DIR}${name}.png` : testInfo.outputPath(`${name}.png`), fullPage: true });
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
