import { mergeAccounts, newAccount, parseOtpauthLines, readBackup } from '../../vault/backup.js';
import { backupFileKind } from '../../vault/backup-file-kind.js';
import { normalizeOrigin } from '../../vault/origin.js';
import type { VaultAccount } from '../../vault/payload.js';
import { VaultAuthError } from '../../vault/record.js';
import { describeAccount } from '../accounts.js';
import { backupStatus, type Handler } from '../handler-context.js';
import { UserFacingError } from '../user-facing-error.js';

/** `import`: an encrypted backup or plain otpauth lines; adds new accounts, never overwrites one. */
export const importAccounts: Handler<'import'> = async (ctx, { text, passphrase, origin }) => {
  const vault = await ctx.requireOpen();
  let incoming: VaultAccount[];
  let errors: Array<{ line: number; message: string }> = [];
  const kind = backupFileKind(text);
  // JSON that is no backup is refused whole: read as links, it would only get "Line 1: This is not an otpauth:// link."
  if (kind === 'damaged-json') {
    throw new UserFacingError('This file looks like a Latchkey backup but is damaged or incomplete (it is not valid JSON). Nothing was imported.');
  }
  if (kind === 'other-json') throw new UserFacingError('This is not a Latchkey backup or a list of otpauth:// links. Nothing was imported.');
  if (kind === 'backup') {
    if (!passphrase) throw new UserFacingError('This is an encrypted Latchkey backup: enter the passphrase it was exported with.', 'needs-passphrase');
    try {
      // `createdAt` is when an account came into this vault: the Backup card counts those added after the
      // last export, and a backup's accounts are in no backup of this vault (QA: an older backup's
      // accounts were counted as backed up).
      const now = ctx.deps.now();
      incoming = (await readBackup(text, passphrase)).map((account) => ({ ...account, createdAt: now }));
    } catch (error) {
      if (error instanceof VaultAuthError)
        throw new UserFacingError('Wrong passphrase for this backup (or the file was altered). Nothing was imported.', 'needs-passphrase');
      throw error;
    }
  } else {
    const parsed = parseOtpauthLines(text);
    if (parsed.accounts.length === 0 && parsed.errors.length === 0) throw new UserFacingError('The file is empty: nothing to import.');
    const fillOrigin = normalizeOrigin(origin);
    incoming = parsed.accounts.map((params) => newAccount(params, fillOrigin, ctx.deps.now()));
    errors = parsed.errors;
  }
  const merged = mergeAccounts(vault.payload.accounts, incoming);
  const payload = { ...vault.payload, accounts: merged.accounts };
  if (merged.added.length > 0) await ctx.save(vault, payload);
  return {
    backup: backupStatus(payload),
    added: merged.added.length,
    duplicates: merged.duplicates.map(describeAccount),
    conflicts: merged.conflicts.map(describeAccount),
    errors,
  };
};
