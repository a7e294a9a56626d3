import { VaultAuthError } from '../../vault/record.js';
import { changePassphrase as rekeyVault, type UnlockedVault } from '../../vault/vault-store.js';
import { assertPassphrase } from '../accounts.js';
import type { Handler } from '../handler-context.js';
import { UserFacingError } from '../user-facing-error.js';

/** `change-passphrase`: re-encrypt under a new passphrase; a wrong current one changes nothing. */
export const changePassphrase: Handler<'change-passphrase'> = async (ctx, { current, next }) => {
  await ctx.requireOpen();
  assertPassphrase(next);
  let vault: UnlockedVault;
  try {
    vault = await rekeyVault(ctx.deps.storage, current, next, ctx.kdf);
  } catch (error) {
    if (error instanceof VaultAuthError) throw new UserFacingError('The current passphrase is wrong. Nothing was changed.', 'wrong-passphrase');
    throw error;
  }
  await ctx.startSession(vault);
  return {};
};
