import { warmUpKdf } from '../../vault/kdf.js';
import { storedVault } from '../../vault/vault-store.js';
import type { Handler } from '../handler-context.js';

/**
 * `status`: is there a vault, and is it unlocked? When unlocked, the answer also carries what the list
 * shows (as `codes` does), so the popup's first screen takes one request and one wait on storage.
 */
export const status: Handler<'status'> = async (ctx) => {
  const { vault, stored } = await ctx.openSession();
  if (vault) return { state: 'unlocked', ...ctx.list(vault), shortcutRefusal: ctx.takeShortcutRefusal() };
  const found = storedVault(stored);
  if (!found) return { state: 'none' };
  // The popup is about to show the unlock screen: get the KDF ready, at the vault's own parameters,
  // while the person types (warmUpKdf never throws).
  void warmUpKdf(found.kdf);
  return { state: 'locked' };
};
