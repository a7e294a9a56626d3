import { emptyPayload } from '../../vault/payload.js';
import { eraseVault as eraseStoredVault } from '../../vault/vault-store.js';
import type { Handler } from '../handler-context.js';
import { confirmsErase, ERASE_CONFIRMATION } from '../messages.js';
import { rememberAccountOrigins } from '../security-key-sites.js';
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
  // The security-key hand-off followed the erased vault's sites; now only the index's own origins.
  await rememberAccountOrigins(ctx.deps.storage, emptyPayload());
  return { state: 'none' };
};
