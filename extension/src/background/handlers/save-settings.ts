import { parseSettings } from '../../vault/payload.js';
import type { Handler } from '../handler-context.js';
import { UserFacingError } from '../user-facing-error.js';

/** `save-settings`: validate and store the settings; a new auto-lock time applies at once. */
export const saveSettings: Handler<'save-settings'> = async (ctx, { settings }) => {
  const vault = await ctx.requireOpen();
  let next: ReturnType<typeof parseSettings>;
  try {
    next = parseSettings(settings);
  } catch (error) {
    // The vault reader's own words ("Auto-lock must be a whole number of minutes from 1 to …") are the
    // person's to act on here, not "Something went wrong".
    throw new UserFacingError(error instanceof Error ? error.message : 'These settings cannot be saved.');
  }
  await ctx.save(vault, { ...vault.payload, settings: next });
  await ctx.startSession({ ...vault, payload: { ...vault.payload, settings: next } });
  return { settings: next };
};
