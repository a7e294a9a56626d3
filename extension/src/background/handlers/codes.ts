import type { Handler } from '../handler-context.js';

/** `codes`: every account with its current code (never its secret), and the settings. */
export const codes: Handler<'codes'> = async (ctx) => {
  const vault = await ctx.requireOpen();
  return { accounts: vault.payload.accounts.map((account) => ctx.view(account)), settings: vault.payload.settings };
};
