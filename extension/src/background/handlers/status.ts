import { warmUpKdf } from '../../vault/kdf.js';
import { storedVault } from '../../vault/vault-store.js';
import type { Handler } from '../handler-context.js';

/** `status`: is there a vault, and is it unlocked? */
export const status: Handler<'status'> = async (ctx) => {
  // Both reads at once: the popup waits for this answer before its first screen.
  const [stored, session] = await Promise.all([storedVault(ctx.deps.storage), ctx.deps.session.get(ctx.deps.now())]);
  if (!stored) return { state: 'none' };
  if (session) return { state: 'unlocked' };
  // The popup is about to show the unlock screen: get the KDF ready, at the vault's own parameters,
  // while the person types (warmUpKdf never throws).
  void warmUpKdf(stored.kdf);
  return { state: 'locked' };
};
