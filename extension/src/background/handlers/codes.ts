import type { Handler } from '../handler-context.js';

/** `codes`: every account with its current code (never its secret), and the settings. */
export const codes: Handler<'codes'> = async (ctx) => {
  const vault = await ctx.requireOpen();
  return ctx.list(vault);
};
