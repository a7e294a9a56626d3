import { findAccount } from '../accounts.js';
import type { Handler } from '../handler-context.js';
import { withdrawSiteAccess } from '../withdraw-site-access.js';

/**
 * `delete-account`: remove one account, and give back the site access granted for its site when no remaining
 * account uses that site's pattern (before, the grant outlived the account in the browser's settings).
 */
export const deleteAccount: Handler<'delete-account'> = async (ctx, { id }) => {
  const vault = await ctx.requireOpen();
  const account = findAccount(vault, id);
  const accounts = vault.payload.accounts.filter((a) => a.id !== id);
  await ctx.save(vault, { ...vault.payload, accounts });
  await withdrawSiteAccess(
    ctx.deps.removeHostPermission,
    [account.origin],
    accounts.map((a) => a.origin),
  );
  return {};
};
