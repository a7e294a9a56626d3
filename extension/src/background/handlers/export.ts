import { exportBackup } from '../../vault/backup.js';
import { backupStatus, type Handler } from '../handler-context.js';
import { localDate } from '../local-date.js';

/**
 * `export`: an encrypted backup file of the whole vault, named after today's date (local). The vault notes when, so
 * the settings can say which accounts no backup holds yet (the popup saves the file the moment it gets it).
 */
export const exportVault: Handler<'export'> = async (ctx) => {
  const vault = await ctx.requireOpen();
  const now = ctx.deps.now();
  const date = localDate(now);
  const text = exportBackup(vault.key, vault.kdf, vault.payload, now);
  const payload = { ...vault.payload, lastBackupAt: now };
  await ctx.save(vault, payload);
  return { filename: `latchkey-backup-${date}.json`, text, backup: backupStatus(payload) };
};
