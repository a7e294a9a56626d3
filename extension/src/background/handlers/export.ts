import { exportBackup } from '../../vault/backup.js';
import type { Handler } from '../handler-context.js';

/** `export`: an encrypted backup file of the whole vault, named after today's date. */
export const exportVault: Handler<'export'> = async (ctx) => {
  const vault = await ctx.requireOpen();
  const now = ctx.deps.now();
  const date = new Date(now).toISOString().slice(0, 10);
  return { filename: `latchkey-backup-${date}.json`, text: exportBackup(vault.key, vault.kdf, vault.payload, now) };
};
