import { isBackupFile, mergeAccounts, newAccount, parseOtpauthLines, readBackup } from '../../vault/backup.js';
import { normalizeOrigin } from '../../vault/origin.js';
import type { VaultAccount } from '../../vault/payload.js';
import { VaultAuthError } from '../../vault/record.js';
import { describeAccount } from '../accounts.js';
import type { Handler } from '../handler-context.js';
import { UserFacingError } from '../user-facing-error.js';

/** `import`: an encrypted backup or plain otpauth lines; adds new accounts, never overwrites one. */
export const importAccounts: Handler<'import'> = async (ctx, { text, passphrase, origin }) => {
  const vault = await ctx.requireOpen();
  let incoming: VaultAccount[];
  let errors: Array<{ line: number; message: string }> = [];
  if (isBackupFile(text)) {
    if (!passphrase) throw new UserFacingError('This is an encrypted Latchkey backup: enter the passphrase it was exported with.', 'needs-passphrase');
    try {
      incoming = await readBackup(text, passphrase);
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
  if (merged.added.length > 0) await ctx.save(vault, { ...vault.payload, accounts: merged.accounts });
  return {
    added: merged.added.length,
    duplicates: merged.duplicates.map(describeAccount),
    conflicts: merged.conflicts.map(describeAccount),
    errors,
  };
};
