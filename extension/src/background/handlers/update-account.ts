import { validateTotpAccount } from '@latchkey/shared';
import { sameIdentity } from '../../vault/backup.js';
import { normalizeOrigin } from '../../vault/origin.js';
import type { VaultAccount } from '../../vault/payload.js';
import { describeAccount, findAccount } from '../accounts.js';
import type { Handler } from '../handler-context.js';
import { leaveSite } from '../leave-site.js';
import { UserFacingError } from '../user-facing-error.js';

/**
 * `update-account`: rename an account or change the origin it fills on (the secret never changes). Moved off a site
 * no remaining account uses, the old site's access grant is given back (the popup then offers to ask for the new one's),
 * and its clock reading is forgotten when no remaining account is on that origin.
 */
export const updateAccount: Handler<'update-account'> = async (ctx, { id, issuer, label, origin }) => {
  const vault = await ctx.requireOpen();
  const current = findAccount(vault, id);
  const params = validateTotpAccount({ ...current, issuer, label });
  const updated: VaultAccount = { ...current, ...params, origin: normalizeOrigin(origin) };
  // Adding refuses a second account with the same name and site; renaming must too, or two rows would
  // look alike and show different codes. The account itself is not "another" (a change of case is fine).
  const other = vault.payload.accounts.find((a) => a.id !== id && sameIdentity(a, updated));
  if (other) {
    throw new UserFacingError(
      `Another account, ${describeAccount(other)}, already fills on ${other.origin}. Give this one a different name or site; nothing was saved.`,
    );
  }
  const accounts = vault.payload.accounts.map((a) => (a.id === id ? updated : a));
  await ctx.save(vault, { ...vault.payload, accounts });
  if (current.origin !== updated.origin) {
    await leaveSite(
      ctx.deps,
      current.origin,
      accounts.map((a) => a.origin),
    );
  }
  return { account: ctx.view(updated) };
};
