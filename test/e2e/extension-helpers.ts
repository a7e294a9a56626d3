import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from '@playwright/test';
import type { Page } from 'playwright-core';
import { createVault as createVaultInPopup } from '../src/kit/create-vault.js';
import type { BrowserWithExtension } from '../src/kit/index.js';

/** Chromium flag that lets a pipe-connected client press the toolbar button (CDP `Extensions.triggerAction`). */
export const TOOLBAR_CLICK_ARGS = ['--enable-unsafe-extension-debugging'];

/**
 * Press the extension's toolbar button on `page`'s tab, exactly as a person's click would: Chromium
 * grants `activeTab` for that tab (what `tabs.captureVisibleTab` needs for "Scan QR") and opens the
 * popup. The kit's `openPopup` (a programmatic open) grants nothing, so journeys that scan call this
 * first; the grant lasts until the tab navigates. Needs {@link TOOLBAR_CLICK_ARGS} at launch.
 */
export async function clickToolbarButton(browser: BrowserWithExtension, page: Page): Promise<void> {
  const chromium = browser.context.browser();
  if (!chromium) throw new Error('clickToolbarButton: no browser connection');
  const session = await chromium.newBrowserCDPSession();
  try {
    const { targetInfos } = (await session.send('Target.getTargets', { filter: [{ type: 'tab' }] } as never)) as unknown as {
      targetInfos: Array<{ targetId: string; url: string }>;
    };
    await page.bringToFront();
    const tab = targetInfos.find((target) => target.url === page.url());
    if (!tab) throw new Error(`clickToolbarButton: no tab target for ${page.url()}`);
    await session.send('Extensions.triggerAction' as never, { id: browser.extensionId, targetId: tab.targetId } as never);
  } finally {
    await session.detach();
  }
  // The click opened the popup. Close it again (as a click elsewhere would) and wait until it is
  // gone: the grant stays with the tab, and the caller attaches to a fresh popup with `openPopup`,
  // which cannot open one while another is still showing.
  const popupPrefix = `chrome-extension://${browser.extensionId}/`;
  const listPopups = async () =>
    ((await (await fetch(`${browser.devtoolsUrl}/json/list`)).json()) as Array<{ id: string; type: string; url: string }>).filter(
      (target) => target.type === 'page' && target.url.startsWith(popupPrefix),
    );
  await waitFor(async () => (await listPopups()).length > 0, 'the popup did not open');
  for (const popup of await listPopups()) await fetch(`${browser.devtoolsUrl}/json/close/${popup.id}`);
  await waitFor(async () => (await listPopups()).length === 0, 'the popup did not close');
}

async function waitFor(condition: () => Promise<boolean>, message: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`clickToolbarButton: ${message}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/**
 * Screenshot the popup. Into docs/screenshots/ (committed, shown in the README) only when
 * LATCHKEY_UPDATE_SCREENSHOTS=1, so ordinary runs leave the working tree clean.
 */
export async function screenshotPopup(popup: Page, name: string, outputPath: (name: string) => string): Promise<void> {
  if (process.env.LATCHKEY_UPDATE_SCREENSHOTS === '1') {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await popup.screenshot({ path: `${SCREENSHOT_DIR}${name}.png` });
  } else {
    await popup.screenshot({ path: outputPath(`${name}.png`) });
  }
}

/** The passphrase the extension journeys give their vaults. */
export const PASSPHRASE = 'correct horse battery staple';

/** On the popup's first screen: create a vault under {@link PASSPHRASE} (the kit's createVault) and wait for the empty list. */
export async function createVault(popup: Page): Promise<void> {
  await createVaultInPopup(popup, PASSPHRASE);
  await expect(popup.getByRole('heading', { name: 'No accounts yet' })).toBeVisible({ timeout: 30_000 });
}

/**
 * Add an account in the popup's "Type it" form (from the account list), filling on the tab's own
 * origin (the form's default), and wait for its code. The security-key hand-off also needs one:
 * the popup offers it only on the index origins and the sites of the vault's accounts.
 */
export async function addAccountByTyping(popup: Page, account: { issuer: string; label: string; secret: string }): Promise<void> {
  await popup.getByRole('button', { name: 'Add account' }).last().click();
  await popup.getByRole('tab', { name: 'Type it' }).click();
  await popup.getByLabel('Issuer').fill(account.issuer);
  await popup.getByLabel('Account name').fill(account.label);
  await popup.getByLabel('Secret key').fill(account.secret);
  await popup.getByRole('button', { name: 'Save account' }).click();
  await expect(popup.locator(`.account[data-account-id] .account-code`).first()).toHaveAttribute('data-code', /^\d{6}$/);
}
