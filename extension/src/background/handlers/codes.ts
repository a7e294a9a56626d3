import type { Handler } from '../handler-context.js';
import { UserFacingError } from '../user-facing-error.js';

/**
 * `codes`: every account with its current code (never its secret), the settings, and when the vault
 * locks. A `refresh` (the open list's timer) leaves the auto-lock where it is.
 */
export const codes: Handler<'codes'> = async (ctx, { refresh }) => {
  const { vault, lockAt } = await ctx.openSession({ activity: !refresh });
  if (!vault || lockAt === null) throw new UserFacingError('The vault is locked.', 'locked');
  return { ...ctx.list(vault), lockAt };
};
