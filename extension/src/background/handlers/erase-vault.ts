import { eraseVault as eraseStoredVault } from '../../vault/vault-store.js';
import { forgetSiteClocks } from '../forget-site-clocks.js';
import type { Handler } from '../handler-context.js';
import { confirmsErase, ERASE_CONFIRMATION } from '../messages.js';
import { ACCOUNT_ORIGINS_ITEM } from '../security-key-sites.js';
import { UserFacingError } from '../user-facing-error.js';
import { withdrawSiteAccess } from '../withdraw-site-access.js';

/**
 * `erase-vault`: the way out of a forgotten passphrase. No passphrase is asked (that is the point), so the
 * person's typed confirmation is checked here too, not only by the popup's disabled button: a stray message
 * cannot erase the vault. Locks first, so no open session outlives its records.
 */
export const eraseVault: Handler<'erase-vault'> = async (ctx, { confirm }) => {
  if (!confirmsErase(confirm)) {
    throw new UserFacingError(`Type "${ERASE_CONFIRMATION}" to confirm. Nothing was erased.`, 'invalid-input');
  }
  await ctx.lock();
  // The erased vault's sites, read before they go: the host access granted for them is given back below. A list
  // that cannot be read gives nothing back, and erases all the same.
  const origins = (await ctx.deps.storage.get([ACCOUNT_ORIGINS_ITEM]).catch(() => ({}) as Record<string, unknown>))[ACCOUNT_ORIGINS_ITEM];
  // The security-key hand-off followed those sites; now only the index's own origins. Removed with the records, in
  // the same storage call, rather than left as an empty list; the sites' clock readings and host access go too:
  // nothing of the erased vault's accounts stays in storage.local, storage.session or the browser's grants. (The
  // rollback marks do stay, by design: see eraseVault in vault-store.ts.)
  await eraseStoredVault(ctx.deps.storage, [ACCOUNT_ORIGINS_ITEM]);
  if (ctx.deps.siteClock) await forgetSiteClocks(ctx.deps.siteClock);
  await withdrawSiteAccess(ctx.deps.removeHostPermission, origins);
  return { state: 'none' };
};
