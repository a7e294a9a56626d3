import type { Page } from 'playwright-core';
import { popupScreen } from './popup-screen.js';

export interface CreateVaultOptions {
  /**
   * Milliseconds to wait for the popup's first screen, and then for the vault to be created (the vault's
   * KDF is deliberately slow: argon2id, 64 MiB, t=3, p=4). Default 60 000.
   */
  timeout?: number;
}

/**
 * Creates the extension's vault in an open popup, as a person would on the first screen ("Set up
 * Latchkey"): types the passphrase twice and presses "Create vault". Resolves once the vault is
 * created and unlocked (the popup then shows the empty account list). Every
 * {@link launchBrowserWithExtension} profile starts without a vault, so a test that needs the popup
 * unlocked starts here; {@link unlockVault} is for a vault that has been locked since.
 *
 * Rejects naming the screen when the popup is not on "Set up Latchkey", and with the popup's own
 * words when it will not create the vault (a passphrase too weak keeps "Create vault" disabled).
 *
 * @example
 * ```ts
 * const popup = await openPopup(context, { forPage: page });
 * await createVault(popup, 'correct horse battery staple');
 * await popup.getByRole('button', { name: 'Lock now' }).click();
 * await unlockVault(popup, 'correct horse battery staple');
 * ```
 */
export async function createVault(popup: Page, passphrase: string, options: CreateVaultOptions = {}): Promise<void> {
  if (passphrase === '') throw new TypeError('createVault: the passphrase is empty');
  const timeout = options.timeout ?? 60_000;
  const screen = await popupScreen(popup, timeout).catch((reason: unknown) => {
    throw new Error(`createVault: the popup showed no screen within ${timeout} ms (${String(reason)})`);
  });
  if (screen.kind !== 'set-up') {
    throw new Error(`createVault: the popup shows ${screen.description}, not "Set up Latchkey": this profile already has a vault`);
  }
  await popup.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await popup.getByLabel('Confirm passphrase').fill(passphrase);
  const create = popup.getByRole('button', { name: 'Create vault', exact: true });
  if (!(await becomesEnabled(create, 10_000))) {
    const verdict = ((await popup.locator('.strength').first().textContent()) ?? '').trim();
    throw new Error(`createVault: the popup keeps "Create vault" disabled for this passphrase${verdict ? `: ${verdict}` : ''}`);
  }
  await create.click();
  const heading = popup.getByRole('heading', { name: 'Set up Latchkey', exact: true });
  const error = popup.locator('.field-error[role="alert"]');
  const outcome = await Promise.race([
    heading.waitFor({ state: 'hidden', timeout }).then(() => 'created' as const),
    error.waitFor({ state: 'visible', timeout }).then(() => 'refused' as const),
  ]).catch((reason: unknown) => {
    throw new Error(`createVault: the vault was neither created nor refused within ${timeout} ms (${String(reason)})`);
  });
  if (outcome === 'refused') throw new Error(`createVault: the popup refused: ${(await error.textContent())?.trim() ?? '(no message)'}`);
}

/** The button is disabled while the popup loads its list of common passwords, and for a weak passphrase. */
async function becomesEnabled(button: ReturnType<Page['locator']>, timeout: number): Promise<boolean> {
  const deadline = Date.now() + timeout;
  while (!(await button.isEnabled())) {
    if (Date.now() > deadline) return false;
    await new Promise((done) => setTimeout(done, 100));
  }
  return true;
}
