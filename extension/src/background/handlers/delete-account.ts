import { findAccount } from '../accounts.js';
import type { Handler } from '../handler-context.js';

/** `delete-account`: remove one account. */
export const deleteAccount: Handler<'delete-account'> = async (ctx, { id }) => {
  const vault = await ctx.requireOpen();
  findAccount(vault, id);
  await ctx.save(vault, { ...vault.payload, accounts: vault.payload.accounts.filter((a) => a.id !== id) });
  return {};
};
