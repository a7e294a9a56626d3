import { passwordPattern } from '@latchkey/shared/password-patterns';
import type { VaultAccount } from '../vault/payload.js';
import { isolate } from './isolate.js';
import type { UnlockedVault } from '../vault/vault-store.js';
import { UserFacingError } from './user-facing-error.js';

/** The account with this id, or a refusal the person can understand. */
export function findAccount(vault: UnlockedVault, id: string): VaultAccount {
  const account = vault.payload.accounts.find((a) => a.id === id);
  if (!account) throw new UserFacingError('That account no longer exists.');
  return account;
}

/**
 * "Issuer: label" (or the label alone), the way messages name an account: each part in its own isolate, so an RTL
 * name keeps the sentence around it in order (the popup shows them as `<bdi>`).
 */
export function describeAccount(account: Pick<VaultAccount, 'issuer' | 'label'>): string {
  return account.issuer ? `${isolate(account.issuer)}: ${isolate(account.label)}` : isolate(account.label);
}

/** NIST SP 800-63B 5.1.1.2: length is what matters; no composition rules. */
const MIN_PASSPHRASE_LENGTH = 10;

/**
 * Refuse a new vault passphrase shorter than {@link MIN_PASSPHRASE_LENGTH} characters, or repetitive or
 * sequential (NIST SP 800-63B 5.1.1.2) — here as well as in the popup's hint, so the rule holds whatever
 * page sends the request. The breached-password list stays the popup's: it is ten times the background.
 */
export function assertPassphrase(passphrase: string): void {
  if (typeof passphrase !== 'string' || [...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new UserFacingError(`Use a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters.`);
  }
  if (passwordPattern(passphrase)) {
    throw new UserFacingError('A repeated pattern or a run like “1234…” is guessed at once. Use a few unrelated words.');
  }
}
