import { parseSettings } from '../../vault/payload.js';
import type { Handler } from '../handler-context.js';

/** `save-settings`: validate and store the settings; a new auto-lock time applies at once. */
export const saveSettings: Handler<'save-settings'> = async (ctx, { settings }) => {
  const vault = await ctx.requireOpen();
  const next = parseSettings(settings);
  await ctx.save(vault, { ...vault.payload, settings: next });
  await ctx.startSession({ ...vault, payload: { ...vault.payload, settings: next } });
  return { settings: next };
};
