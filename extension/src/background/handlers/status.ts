import { warmUpKdf } from '../../vault/kdf.js';
import { storedKdf, vaultExists } from '../../vault/vault-store.js';
import type { Handler } from '../handler-context.js';

/** `status`: is there a vault, and is it unlocked? */
export const status: Handler<'status'> = async (ctx) => {
  if (!(await vaultExists(ctx.deps.storage))) return { state: 'none' };
  if (await ctx.deps.session.get(ctx.deps.now())) return { state: 'unlocked' };
  // The popup is about to show the unlock screen: get the KDF ready, at the vault's own parameters,
  // while the person types.
  void storedKdf(ctx.deps.storage).then(warmUpKdf, () => undefined);
  return { state: 'locked' };
};
