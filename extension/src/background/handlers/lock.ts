import type { Handler } from '../handler-context.js';

/** `lock`: forget the key now. */
export const lock: Handler<'lock'> = async (ctx) => {
  await ctx.lock();
  return { state: 'locked' };
};
