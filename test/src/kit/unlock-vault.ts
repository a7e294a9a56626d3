import type { Page } from 'playwright-core';
import { popupScreen } from './popup-screen.js';

export interface UnlockVaultOptions {
  /**
   * Milliseconds to wait for the unlock. The vault's KDF is deliberately slow (argon2id, 64 MiB,
   * t=3, p=4), more so on a loaded CI machine. Default 60 000.
   */
  timeout?: number;
}

/**
 * Unlocks the extension's vault in an open popup, as a person would: types the passphrase into the
 * locked screen's "Passphrase" field and presses "Unlock". Resolves once the locked screen is gone;
 * rejects with the popup's own message (e.g. "Wrong passphrase.") when it stays, and at once, naming
 * the screen, when the popup is not locked: a fresh profile has no vault yet ({@link createVault}
 * makes one, and leaves it unlocked).
 *
 * @example
 * ```ts
 * const popup = await openPopup(context, { forPage: page }); // a vault made earlier, since locked
 * await unlockVault(popup, 'correct horse battery staple');
 * await popup.getByRole('button', { name: /^Fill code/ }).click();
 * ```
 */
export async function unlockVault(popup: Page, passphrase: string, options: UnlockVaultOptions = {}): Promise<void> {
  if (passphrase === '') throw new TypeError('unlockVault: the passphrase is empty');
  const timeout = options.timeout ?? 60_000;
  const lockedText = popup.getByText('Your vault is locked.');
  const screen = await popupScreen(popup, timeout).catch((reason: unknown) => {
    throw new Error(`unlockVault: the popup showed no screen within ${timeout} ms (${String(reason)})`);
  });
  if (screen.kind !== 'locked') {
    const hint = screen.kind === 'set-up' ? ': create the vault first, with createVault(popup, passphrase)' : '';
    throw new Error(`unlockVault: the popup shows ${screen.description}, not the locked screen ("Your vault is locked.")${hint}`);
  }
  await popup.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await popup.getByRole('button', { name: 'Unlock', exact: true }).click();
  const error = popup.locator('.field-error[role="alert"]');
  const outcome = await Promise.race([
    lockedText.waitFor({ state: 'hidden', timeout }).then(() => 'unlocked' as const),
    error.waitFor({ state: 'visible', timeout }).then(() => 'refused' as const),
  ]).catch((reason: unknown) => {
    throw new Error(`unlockVault: neither unlocked nor refused within ${timeout} ms (${String(reason)})`);
  });
  if (outcome === 'refused') {
    throw new Error(`unlockVault: the popup refused the passphrase: ${(await error.textContent())?.trim() ?? '(no message)'}`);
  }
}
