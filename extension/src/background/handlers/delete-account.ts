import { findAccount } from '../accounts.js';
import type { Handler } from '../handler-context.js';
import { leaveSite } from '../leave-site.js';

/**
 * `delete-account`: remove one account, and give back the site access granted for its site when no remaining
 * account uses that site's pattern (before, the grant outlived the account in the browser's settings); its site's
 * clock reading goes too when no remaining account is on that origin (it stayed in `storage.session`).
 */
export const deleteAccount: Handler<'delete-account'> = async (ctx, { id }) => {
  const vault = await ctx.requireOpen();
  const account = findAccount(vault, id);
  const accounts = vault.payload.accounts.filter((a) => a.id !== id);
  await ctx.save(vault, { ...vault.payload, accounts });
  await leaveSite(
    ctx.deps,
    account.origin,
    accounts.map((a) => a.origin),
  );
  return {};
};
