import { unlockVault } from '../../vault/vault-store.js';
import type { Handler } from '../handler-context.js';
import { rememberAccountOrigins } from '../security-key-sites.js';

/** `unlock`: derive the key from the passphrase and keep it for the session. */
export const unlock: Handler<'unlock'> = async (ctx, { passphrase }) => {
  const vault = await unlockVault(ctx.deps.storage, passphrase);
  if (vault.restoredFromPrevious) await ctx.save(vault, vault.payload); // repair the damaged current record
  else await rememberAccountOrigins(ctx.deps.storage, vault.payload); // vaults written before the list existed
  await ctx.startSession(vault);
  return { state: 'unlocked', restoredFromPrevious: vault.restoredFromPrevious };
};
