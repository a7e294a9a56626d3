import { findAccount } from '../accounts.js';
import { fillAccount } from '../fill-account.js';
import type { Handler } from '../handler-context.js';

/** `fill`: the popup's Fill button — the account's code into the tab, exact origin only. */
export const fill: Handler<'fill'> = async (ctx, { id, tabId }) => {
  const vault = await ctx.requireOpen();
  return fillAccount(ctx, vault, findAccount(vault, id), tabId);
};
