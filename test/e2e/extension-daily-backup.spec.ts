import { readFileSync, writeFileSync } from 'node:fs';
import { TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { expect, test } from '../src/kit/fixtures.js';
import { launchBrowserWithExtension, openPopup } from '../src/kit/index.js';
import { createVault, PASSPHRASE, screenshotPopup } from './extension-helpers.js';

// A maintainer's day with Latchkey in Chromium, by keyboard where a person would use it: Settings, the
// passphrase, and a backup carried to a fresh profile. What a fresh-eyes pass found wrong: after
// **Change passphrase** or **Import** the focus fell to the page body (the pressed button is disabled while
// it works), and "Settings saved." stayed next to a value that was not saved.
test.use({ trace: 'off' });

const NEW_PASSPHRASE = 'purple elephant tango 42';
const STRONG = { secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', digits: 8, period: 60, algorithm: 'SHA256' } as const;
const LINKS = [
  `otpauth://totp/Strong:eight?secret=${STRONG.secret}&issuer=Strong&digits=8&period=60&algorithm=SHA256`,
  'otpauth://totp/PyPI:me?secret=JBSWY3DPEHPK3PXP&issuer=PyPI',
].join('\n');

/** What has the focus: never the page body after an action. */
function activeElement(popup: Page) {
  return popup.evaluate(() => {
    const element = document.activeElement;
    return { tag: element?.tagName.toLowerCase() ?? '', text: element?.textContent?.trim() ?? '' };
  });
}

/** The codes the popup shows now, by account name. */
async function shownCodes(popup: Page): Promise<Record<string, string>> {
  await expect(popup.locator('.account-code').first()).toHaveAttribute('data-code', /^\d+$/);
  const rows = await popup
    .locator('.account')
    .evaluateAll((elements) =>
      elements.map((row) => [row.querySelector('.account-label')?.textContent ?? '', row.querySelector('.account-code')?.getAttribute('data-code') ?? '']),
    );
  return Object.fromEntries(rows);
}

test('settings, passphrase and backups by keyboard: focus lands on each result; the backup opens in a fresh profile with the same codes', async ({
  extension,
  extensionPage,
}, testInfo) => {
  test.setTimeout(240_000);
  await extensionPage.goto('about:blank');
  const popup = await openPopup(extension.context, { forPage: extensionPage });
  await createVault(popup);
  const linksFile = testInfo.outputPath('links.txt');
  writeFileSync(linksFile, `${LINKS}\n`);
  await popup.getByRole('button', { name: 'Settings' }).focus();
  await popup.keyboard.press('Enter');
  await expect(popup.getByRole('heading', { name: 'Settings' })).toBeFocused();

  // Import: the result takes the focus (it fell to <body>: the Import button is disabled while importing).
  await popup.getByLabel('Import a backup or otpauth:// links (one per line)').setInputFiles(linksFile);
  await popup.getByRole('button', { name: 'Import', exact: true }).focus();
  await popup.keyboard.press('Enter');
  await expect(popup.getByText('2 accounts added.')).toBeVisible();
  await expect(popup.locator('.import-report')).toBeFocused();

  // Auto-lock: saved, kept; a value edited after the save no longer sits beside "Settings saved.".
  const minutes = popup.getByLabel('Lock after (minutes unused)');
  await minutes.fill('3');
  await minutes.press('Enter');
  await expect(popup.getByText('Settings saved.')).toBeVisible();
  // Said in the polite live region that was on the screen before it (a status inserted holding its text is not read).
  await expect(popup.locator('[role="status"].live-status', { hasText: 'Settings saved.' })).toBeVisible();
  await minutes.fill('0');
  await expect(popup.getByText('Settings saved.')).toHaveCount(0);
  await minutes.press('Enter'); // out of range: the browser's own check stops it
  await expect(popup.getByText('Settings saved.')).toHaveCount(0);

  const [download] = await Promise.all([popup.waitForEvent('download'), popup.getByRole('button', { name: 'Export encrypted backup' }).click()]);
  const backupFile = testInfo.outputPath('backup.json');
  writeFileSync(backupFile, readFileSync((await download.path())!, 'utf8'));
  const cutFile = testInfo.outputPath('cut.json');
  writeFileSync(cutFile, readFileSync(backupFile, 'utf8').slice(0, 200));

  // A wrong current passphrase changes nothing; the right one, typed and submitted by keyboard, does.
  const current = popup.getByLabel('Current passphrase');
  await current.fill('not my passphrase at all');
  await popup.keyboard.press('Tab');
  await popup.keyboard.type(NEW_PASSPHRASE);
  await popup.keyboard.press('Tab');
  await popup.keyboard.type(NEW_PASSPHRASE);
  await popup.keyboard.press('Tab');
  await expect(popup.getByRole('button', { name: 'Change passphrase' })).toBeFocused();
  await popup.keyboard.press('Enter');
  const wrong = popup.getByText('The current passphrase is wrong. Nothing was changed.');
  await expect(wrong).toBeFocused({ timeout: 60_000 });
  // Fixed: the refusal goes as soon as a field is edited, and does not sit beside the next problem (review).
  await current.fill(PASSPHRASE);
  await expect(wrong).toHaveCount(0);
  // A new passphrase the same as the current one is refused on its field, and nothing is changed (it was accepted).
  const newField = popup.getByLabel('New passphrase', { exact: true });
  const confirmField = popup.getByLabel('Confirm new passphrase');
  await newField.fill(PASSPHRASE);
  await confirmField.fill(PASSPHRASE);
  await popup.getByRole('button', { name: 'Change passphrase' }).focus();
  await popup.keyboard.press('Enter');
  await expect(newField).toBeFocused();
  await expect(newField).toHaveAttribute('aria-invalid', 'true');
  await expect(popup.getByRole('alert').filter({ hasText: 'The new passphrase is the same as the current one. Choose another.' })).toBeVisible();
  await expect(popup.getByText(/^Passphrase changed/)).toHaveCount(0);
  await screenshotPopup(popup, 'daily-passphrase-same-refused', (n) => testInfo.outputPath(n));
  await newField.fill(NEW_PASSPHRASE);
  await expect(popup.getByText('The new passphrase is the same as the current one. Choose another.')).toHaveCount(0);
  await confirmField.fill(NEW_PASSPHRASE);
  await popup.getByRole('button', { name: 'Change passphrase' }).focus();
  await popup.keyboard.press('Enter');
  const changed = popup.getByText('Passphrase changed. Backups exported before now still open with the old one.');
  await expect(changed).toBeVisible({ timeout: 60_000 });
  expect((await activeElement(popup)).tag).not.toBe('body');
  await expect(changed).toBeFocused();
  await screenshotPopup(popup, 'daily-passphrase-changed', (n) => testInfo.outputPath(n));

  await popup.keyboard.press('Escape');
  await expect(popup.getByRole('heading', { name: 'Latchkey' })).toBeFocused();
  const before = await shownCodes(popup);
  await popup.getByRole('button', { name: 'Lock now' }).click();
  const passphrase = popup.getByLabel('Passphrase', { exact: true });
  await passphrase.fill(PASSPHRASE);
  await passphrase.press('Enter');
  await expect(popup.getByText('Wrong passphrase.')).toBeVisible({ timeout: 60_000 });
  await passphrase.fill(NEW_PASSPHRASE);
  await passphrase.press('Enter');
  await expect(popup.getByRole('heading', { name: 'Latchkey' })).toBeVisible({ timeout: 60_000 });
  await popup.getByRole('button', { name: 'Settings' }).click();
  await expect(popup.getByLabel('Lock after (minutes unused)')).toHaveValue('3');

  // A fresh profile (a new computer): a backup cut short, then the right file with the wrong passphrase, then the right one.
  const other = await launchBrowserWithExtension();
  try {
    const otherPage = other.context.pages()[0] ?? (await other.context.newPage());
    const fresh = await openPopup(other.context, { forPage: otherPage });
    await createVault(fresh);
    await fresh.getByRole('button', { name: 'Settings' }).click();
    const file = fresh.getByLabel('Import a backup or otpauth:// links (one per line)');
    await file.setInputFiles(cutFile);
    await fresh.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(
      fresh.getByText('This file looks like a Latchkey backup but is damaged or incomplete (it is not valid JSON). Nothing was imported.'),
    ).toBeFocused();
    await file.setInputFiles(backupFile);
    await fresh.getByLabel(/^Passphrase of /).fill(NEW_PASSPHRASE); // the backup predates the change
    await fresh.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(fresh.getByText('Wrong passphrase for this backup (or the file was altered). Nothing was imported.')).toBeFocused({ timeout: 60_000 });
    await fresh.getByLabel(/^Passphrase of /).fill(PASSPHRASE);
    await fresh.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(fresh.getByText('2 accounts added.')).toBeVisible({ timeout: 60_000 });
    await expect(fresh.locator('.import-report')).toBeFocused();
    await screenshotPopup(fresh, 'daily-fresh-profile-imported', (n) => testInfo.outputPath(n));
    await fresh.keyboard.press('Escape');
    const at = Date.now();
    const imported = await shownCodes(fresh);
    const original = await shownCodes(await openPopup(extension.context, { forPage: extensionPage }));
    // Same codes in both profiles, and the 8-digit SHA-256 60 s one is the otpauth library's.
    expect(imported).toEqual(original);
    const strong = new TOTP(STRONG);
    expect([strong.generate({ timestamp: at }), strong.generate({ timestamp: at + 5_000 })]).toContain(imported.eight);
    expect(Object.keys(before).sort()).toEqual(['eight', 'me']);
  } finally {
    await other.close();
  }
});
