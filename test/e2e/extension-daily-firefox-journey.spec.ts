import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { TOTP } from 'otpauth';
import type { Page } from 'puppeteer-core';
import { expect, test } from '../src/kit/fixtures.js';
import { launchFirefoxWithExtension, type FirefoxWithExtension } from '../src/kit/index.js';
import { button, click, createVaultInFirefox, field, screenshotFirefoxPopup, tabAt, type, waitForText } from './firefox-helpers.js';
import { startStaticPage } from './static-page.js';

// A maintainer's day with Latchkey in real Firefox ESR (the shipped dist/firefox), by keyboard where a
// person would use it: Settings, the passphrase, 50 links imported at once, many accounts and search, an
// 8-digit SHA-256 60 s account, editing and deleting. What this pass found: after **Change passphrase** and
// after **Import** the focus fell to the page body (the pressed button is disabled while it works).
test.describe.configure({ mode: 'serial' });

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const STRONG = { secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', digits: 8, period: 60, algorithm: 'SHA256' } as const;
const LONG_ISSUER = 'VeryLongIssuerName'.repeat(4);
const LONG_LABEL = `${'a.very.long.account.name'.repeat(3)}@example.com`;
const PASSPHRASE = 'correct horse battery staple';
const NEW_PASSPHRASE = 'purple elephant tango 42';

let firefox: FirefoxWithExtension;
let site: Server;
let origin: string;
let page: Page;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  ({ server: site, origin } = await startStaticPage('<!doctype html><title>A page</title><h1>Nothing to fill</h1>'));
  firefox = await launchFirefoxWithExtension();
  page = await firefox.browser.newPage();
  await page.goto(origin);
});

test.afterAll(async () => {
  await firefox?.close();
  await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
});

async function focusedText(popup: Page): Promise<string> {
  return popup.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element) return '';
    const labelled = element.id ? document.querySelector(`label[for="${element.id}"]`)?.textContent : null;
    return `${element.tagName.toLowerCase()}:${element.getAttribute('aria-label') ?? labelled ?? element.textContent?.trim().slice(0, 120) ?? ''}`;
  });
}

test('a day in Firefox: settings and passphrase by keyboard, 50 links imported, search, an 8-digit SHA-256 code, edit and delete', async ({}, testInfo) => {
  test.setTimeout(300_000);
  let popup = await firefox.openPopup(page);
  await createVaultInFirefox(popup, PASSPHRASE);

  // Settings: the heading has the focus; the auto-lock is saved with Enter.
  await popup.focus('button[aria-label="Settings"]');
  await popup.keyboard.press('Enter');
  await waitForText(popup, 'Lock after (minutes unused)');
  await expect.poll(() => focusedText(popup)).toBe('h1:Settings');
  await type(popup, 'Lock after (minutes unused)', '5');
  await popup.keyboard.press('Enter');
  await waitForText(popup, 'Settings saved.');

  // A wrong current passphrase: said, focused, nothing changed. Then the right one, with Enter on the button.
  await type(popup, 'Current passphrase', 'not my passphrase at all');
  await type(popup, 'New passphrase', NEW_PASSPHRASE);
  await type(popup, 'Confirm new passphrase', NEW_PASSPHRASE);
  await popup.keyboard.press('Tab');
  await expect.poll(() => focusedText(popup)).toBe('button:Change passphrase');
  await popup.keyboard.press('Enter');
  await waitForText(popup, 'The current passphrase is wrong. Nothing was changed.', 60_000);
  await expect.poll(() => focusedText(popup)).toBe('p:The current passphrase is wrong. Nothing was changed.');
  await type(popup, 'Current passphrase', PASSPHRASE);
  await click(popup, 'Change passphrase');
  await waitForText(popup, 'Passphrase changed.', 60_000);
  // It fell to <body> before: the button is disabled while re-encrypting.
  await expect.poll(() => focusedText(popup)).toBe('p:Passphrase changed. Backups exported before now still open with the old one.');
  await screenshotFirefoxPopup(popup, 'daily-firefox-passphrase-changed', testInfo);
  await popup.keyboard.press('Escape');
  await waitForText(popup, 'No accounts yet');
  await click(popup, 'Lock now');
  await waitForText(popup, 'Your vault is locked.');
  await type(popup, 'Passphrase', PASSPHRASE);
  await popup.keyboard.press('Enter');
  await waitForText(popup, 'Wrong passphrase.', 60_000);
  await type(popup, 'Passphrase', NEW_PASSPHRASE);
  await popup.keyboard.press('Enter');
  await waitForText(popup, 'No accounts yet', 60_000);
  await click(popup, 'Settings');
  expect(await (await field(popup, 'Lock after (minutes unused)')).evaluate((input) => input.value)).toBe('5');

  // 50 links at once, plus a bad line, a line twice, an 8-digit SHA-256 60 s account and very long names (in a tab: Firefox).
  await click(popup, 'Import in a tab…');
  const tab = await tabAt(firefox.browser, '/src/popup/index.html?view=tab#settings');
  await popup.close().catch(() => undefined);
  await tab.bringToFront();
  await waitForText(tab, 'Import a backup or otpauth:// links (one per line)');
  const lines: string[] = [];
  for (let i = 0; i < 50; i++)
    lines.push(`otpauth://totp/Issuer${i}:user${i}@example.com?secret=JBSWY3DPEHPK3P${B32[Math.floor(i / 32)]}${B32[i % 32]}&issuer=Issuer${i}`);
  lines.push('not a link', lines[0]!);
  lines.push(`otpauth://totp/Strong:eight?secret=${STRONG.secret}&issuer=Strong&digits=8&period=60&algorithm=SHA256`);
  lines.push(`otpauth://totp/${LONG_ISSUER}:${LONG_LABEL}?secret=KRSXG5CTMVRXEZLU&issuer=${LONG_ISSUER}`);
  const file = testInfo.outputPath('links.txt');
  writeFileSync(file, `${lines.join('\n')}\n`);
  await (await field(tab, 'Import a backup or otpauth:// links (one per line)')).uploadFile(file);
  await type(tab, 'Imported links fill on', origin);
  await (await button(tab, 'Import')).focus();
  await tab.keyboard.press('Enter');
  await waitForText(tab, '52 accounts added.', 60_000);
  await waitForText(tab, 'Line 52: “Issuer0: user0@example.com”, repeats line 1 of this file');
  await waitForText(tab, 'Line 51: This is not an otpauth:// link.');
  // It fell to <body> before: the Import button is disabled while importing.
  expect(await tab.evaluate(() => document.activeElement?.classList.contains('import-report'))).toBe(true);
  await screenshotFirefoxPopup(tab, 'daily-firefox-import-report', testInfo);
  await tab.close();

  popup = await firefox.openPopup(page);
  await popup.waitForSelector('.account-code[data-code]');
  expect(await popup.$$('.account')).toHaveLength(52);
  // The codes and the countdown are in no live region (a screen reader would speak every second).
  expect(
    await popup.$$eval('.account-code, .countdown', (elements) => elements.filter((e) => e.closest('[aria-live], [role="status"], [role="alert"]')).length),
  ).toBe(0);
  // Long names stay inside the 360 px popup, the full text in the title.
  expect(await popup.evaluate(() => document.body.scrollWidth)).toBeLessThanOrEqual(360);
  expect(await popup.$eval(`.account-issuer[title="${LONG_ISSUER}"]`, (e) => e.getAttribute('title'))).toBe(LONG_ISSUER);

  const search = (await popup.waitForSelector('input[type="search"]'))!;
  await search.type('strong');
  await popup.waitForFunction(() => document.querySelectorAll('.account').length === 1);
  const at = Date.now();
  const shown = await popup.$eval('.account-code', (e) => e.getAttribute('data-code'));
  const expected = new TOTP(STRONG);
  expect([expected.generate({ timestamp: at }), expected.generate({ timestamp: at - 2_000 })]).toContain(shown);
  await waitForText(popup, `${shown!.slice(0, 4)} ${shown!.slice(4)}`);
  await screenshotFirefoxPopup(popup, 'daily-firefox-search-eight-digits', testInfo);

  // Edit by keyboard: rename and move to another site; then delete with Enter on the confirmation.
  await search.click({ count: 3 });
  await popup.keyboard.press('Backspace');
  await popup.keyboard.type('user7@');
  await popup.waitForFunction(() => document.querySelectorAll('.account').length === 1);
  await popup.focus('button[aria-label="Edit Issuer7 user7@example.com"]');
  await popup.keyboard.press('Enter');
  await waitForText(popup, 'Edit account');
  await expect.poll(() => focusedText(popup)).toBe('h1:Edit account');
  await type(popup, 'Issuer', 'Renamed');
  await type(popup, 'Fills on', 'https://pypi.org');
  await popup.keyboard.press('Enter');
  await waitForText(popup, 'Saved.');
  // Back on the list with the search kept, the focus on the edited row's pencil.
  expect(await popup.$eval('input[type="search"]', (e) => (e as HTMLInputElement).value)).toBe('user7@');
  await expect.poll(() => focusedText(popup)).toBe('button:Edit Renamed user7@example.com');
  const renamed = await popup.$eval('button[aria-label="Edit Renamed user7@example.com"]', (e) => e.closest('.account')?.getAttribute('data-account-id'));
  const stored = await popup.evaluate(
    async () =>
      (await (globalThis as unknown as { browser: typeof chrome }).browser.runtime.sendMessage({ type: 'codes' })) as {
        accounts: Array<{ id: string; origin: string; issuer: string }>;
      },
  );
  expect(stored.accounts.find((account) => account.id === renamed)).toMatchObject({ issuer: 'Renamed', origin: 'https://pypi.org' });
  await popup.focus('button[aria-label="Edit Renamed user7@example.com"]');
  await popup.keyboard.press('Enter');
  await click(popup, 'Delete this account…');
  // The confirmation opens on Cancel, its least destructive action (WAI-ARIA APG alert dialog); Delete is one Shift+Tab back.
  await expect.poll(() => focusedText(popup)).toBe('button:Cancel');
  await popup.keyboard.down('Shift');
  await popup.keyboard.press('Tab');
  await popup.keyboard.up('Shift');
  await expect.poll(() => focusedText(popup)).toBe('button:Delete account');
  await popup.keyboard.press('Enter');
  await waitForText(popup, 'Deleted Renamed (user7@example.com).');
  // The search is kept ("user7@": nothing left to show); emptied, the other 51 are there.
  expect(await popup.$eval('input[type="search"]', (e) => (e as HTMLInputElement).value)).toBe('user7@');
  await (await popup.$('input[type="search"]'))!.click({ count: 3 });
  await popup.keyboard.press('Backspace');
  await popup.waitForFunction(() => document.querySelectorAll('.account').length === 51);
  await popup.close();
});
