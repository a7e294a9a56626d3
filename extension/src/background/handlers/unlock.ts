import { rollbackMessage, unlockVault } from '../../vault/vault-store.js';
import type { Handler } from '../handler-context.js';
import { rememberAccountOrigins } from '../security-key-sites.js';

/** `unlock`: derive the key from the passphrase and keep it for the session. */
export const unlock: Handler<'unlock'> = async (ctx, { passphrase }) => {
  const vault = await unlockVault(ctx.deps.storage, passphrase);
  // Repair a damaged current record; after a rollback, the write continues above the highest counter
  // seen, so the older copy is used from now on only because the person has just been told about it.
  if (vault.restoredFromPrevious || vault.rollback) await ctx.save(vault, vault.payload);
  else await rememberAccountOrigins(ctx.deps.storage, vault.payload); // vaults written before the list existed
  await ctx.startSession(vault);
  return {
    state: 'unlocked',
    restoredFromPrevious: vault.restoredFromPrevious,
    rollback: vault.rollback ? rollbackMessage(vault.rollback) : null,
    accounts: ctx.list(vault).accounts,
  };
};
