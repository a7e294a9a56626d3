import { ROUTES } from '@latchkey/shared';
import { expect } from '@playwright/test';
import type { Page } from 'playwright-core';
import type { TestServer } from '../../src/kit/index.js';

/** What a popup step can use: the server the tab shows, and the tab itself. */
export interface PopupContext {
  server: TestServer;
  tab: Page;
}

/**
 * The extension popup's screens, in the order one session walks through them (each step starts where
 * the previous one left the popup), driven only through what the popup shows — roles and visible
 * text, so the screens can change inside without breaking the walk. Each is audited with axe-core
 * (WCAG 2.2 A/AA) and for horizontal scrolling (accessibility.spec.ts). To audit a new screen, insert
 * one step where the walk reaches it, e.g.
 *
 *   { name: 'settings: import', reach: (popup) => popup.getByRole('button', { name: 'Import' }).click() },
 */
export interface PopupScreen {
  name: string;
  /** From the previous step's screen, reach this one (and wait until it shows). */
  reach(popup: Page, context: PopupContext): Promise<void>;
}

export const PASSPHRASE = 'correct horse battery staple';

export const POPUP_SCREENS: PopupScreen[] = [
  { name: 'set up: choose a passphrase', reach: (popup) => expect(popup.getByRole('heading', { name: 'Set up Latchkey' })).toBeVisible() },
  {
    name: 'set up: passphrases do not match',
    async reach(popup) {
      await popup.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
      await popup.getByLabel('Confirm passphrase').fill(`${PASSPHRASE}!`);
      await expect(popup.getByText('Does not match the passphrase above.')).toBeVisible();
    },
  },
  {
    name: 'no accounts yet',
    async reach(popup) {
      await popup.getByLabel('Confirm passphrase').fill(PASSPHRASE);
      await popup.getByRole('button', { name: 'Create vault' }).click();
      await expect(popup.getByRole('heading', { name: 'No accounts yet' })).toBeVisible({ timeout: 60_000 });
    },
  },
  {
    name: 'add account: scan',
    async reach(popup) {
      await popup.getByRole('button', { name: 'Add account' }).last().click();
      await expect(popup.getByRole('heading', { name: 'Add account' })).toBeVisible();
    },
  },
  {
    name: 'add account: paste a link',
    async reach(popup) {
      await popup.getByRole('tab', { name: 'Paste link' }).click();
      await expect(popup.getByLabel('otpauth:// link')).toBeVisible();
    },
  },
  {
    name: 'add account: a link that is not one',
    async reach(popup) {
      await popup.getByLabel('otpauth:// link').fill('https://example.org/not-an-otpauth-link');
      await popup.getByRole('button', { name: 'Save account' }).click();
      await expect(popup.locator('[role="alert"], .notice-error, .field-error').first()).toBeVisible();
    },
  },
  {
    name: 'add account: type it',
    async reach(popup) {
      await popup.getByRole('tab', { name: 'Type it' }).click();
      await expect(popup.getByLabel('Secret key')).toBeVisible();
    },
  },
  {
    name: 'accounts, on the site they fill',
    async reach(popup, { server }) {
      await popup.getByRole('tab', { name: 'Paste link' }).click();
      const uri = `otpauth://totp/${encodeURIComponent(server.config.rpName)}:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=${encodeURIComponent(server.config.rpName)}`;
      await popup.getByLabel('otpauth:// link').fill(uri);
      await popup.getByRole('button', { name: 'Save account' }).click();
      await expect(popup.locator('.account-code').first()).toHaveAttribute('data-code', /^\d{6}$/);
    },
  },
  {
    name: 'edit account',
    async reach(popup) {
      await popup
        .getByRole('button', { name: /^Edit / })
        .first()
        .click();
      await expect(popup.getByRole('heading', { name: 'Edit account' })).toBeVisible();
    },
  },
  {
    name: 'edit account: confirm delete',
    async reach(popup) {
      await popup.getByRole('button', { name: /^Delete this account/ }).click();
      await expect(popup.getByRole('alertdialog')).toBeVisible();
    },
  },
  {
    name: 'settings',
    async reach(popup) {
      await popup.getByRole('button', { name: 'Cancel' }).click();
      await popup.getByRole('button', { name: 'Back', exact: true }).click();
      await popup.getByRole('button', { name: 'Settings' }).click();
      await expect(popup.getByRole('heading', { name: 'Settings' })).toBeVisible();
    },
  },
  {
    name: 'locked',
    async reach(popup) {
      await popup.getByRole('button', { name: 'Back', exact: true }).click();
      await popup.getByRole('button', { name: 'Lock now' }).click();
      await expect(popup.getByText('Your vault is locked.')).toBeVisible();
    },
  },
  {
    name: 'locked: wrong passphrase',
    async reach(popup) {
      await popup.getByLabel('Passphrase', { exact: true }).fill('not the passphrase at all');
      await popup.getByRole('button', { name: 'Unlock', exact: true }).click();
      await expect(popup.locator('[aria-invalid="true"]').first()).toBeVisible({ timeout: 60_000 });
    },
  },
  {
    name: 'locked: forgot passphrase',
    async reach(popup) {
      await popup.getByRole('button', { name: 'Forgot passphrase?' }).click();
      await expect(popup.getByRole('heading', { name: 'Forgot your passphrase?' })).toBeVisible();
    },
  },
  {
    // Enabled, as a disabled button is exempt from the contrast rule (white on the dark theme's light red
    // was 2.3:1, QA).
    name: 'locked: forgot passphrase, "erase" typed',
    async reach(popup) {
      await popup.getByLabel(/^Type "erase"/).fill('erase');
      await expect(popup.getByRole('button', { name: 'Erase vault' })).toBeEnabled();
    },
  },
];

/** The page the popup is opened over: the server's two-factor-free login page (any page of the server works). */
export const POPUP_TAB_PATH = ROUTES.login;
