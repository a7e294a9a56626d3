import { warmUpKdf } from '../../vault/kdf.js';
import { storedVault } from '../../vault/vault-store.js';
import type { Handler } from '../handler-context.js';

/** `status`: is there a vault, and is it unlocked? */
export const status: Handler<'status'> = async (ctx) => {
  const stored = await storedVault(ctx.deps.storage);
  if (!stored) return { state: 'none' };
  if (await ctx.deps.session.get(ctx.deps.now())) return { state: 'unlocked' };
  // The popup is about to show the unlock screen: get the KDF ready, at the vault's own parameters,
  // while the person types (warmUpKdf never throws).
  void warmUpKdf(stored.kdf);
  return { state: 'locked' };
};
