import { createVault } from '../../vault/vault-store.js';
import { assertPassphrase } from '../accounts.js';
import type { Handler } from '../handler-context.js';
import { rememberAccountOrigins } from '../security-key-sites.js';

/** `create`: a new empty vault under the passphrase, unlocked at once. */
export const create: Handler<'create'> = async (ctx, { passphrase }) => {
  assertPassphrase(passphrase);
  const vault = await createVault(ctx.deps.storage, passphrase, ctx.kdf);
  await rememberAccountOrigins(ctx.deps.storage, vault.payload); // none yet: forget a deleted vault's
  await ctx.startSession(vault);
  return { state: 'unlocked' };
};
