import { eraseVault as eraseStoredVault } from '../../vault/vault-store.js';
import { forgetSiteClocks } from '../forget-site-clocks.js';
import type { Handler } from '../handler-context.js';
import { confirmsErase, ERASE_CONFIRMATION } from '../messages.js';
import { ACCOUNT_ORIGINS_ITEM } from '../security-key-sites.js';
import { UserFacingError } from '../user-facing-error.js';

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
  await eraseStoredVault(ctx.deps.storage);
  // The security-key hand-off followed the erased vault's sites; now only the index's own origins. Removed rather
  // than left as an empty list, and the sites' clock readings with it: nothing of the erased vault's accounts stays
  // in storage.local or storage.session. (The rollback marks do stay, by design: see eraseVault in vault-store.ts.)
  await ctx.deps.storage.remove([ACCOUNT_ORIGINS_ITEM]);
  if (ctx.deps.siteClock) await forgetSiteClocks(ctx.deps.siteClock);
  return { state: 'none' };
};
