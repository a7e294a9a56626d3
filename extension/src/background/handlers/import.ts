import { mergeAccounts, type MergeResult, newAccount, parseOtpauthLines, readBackup } from '../../vault/backup.js';
import { backupFileKind } from '../../vault/backup-file-kind.js';
import { normalizeOrigin } from '../../vault/origin.js';
import type { VaultAccount } from '../../vault/payload.js';
import { VaultAuthError } from '../../vault/record.js';
import { describeAccount } from '../accounts.js';
import { backupStatus, type Handler } from '../handler-context.js';
import type { ImportSkip } from '../messages.js';
import { UserFacingError } from '../user-facing-error.js';

/** `import`: an encrypted backup or plain otpauth lines; adds new accounts, never overwrites one. */
export const importAccounts: Handler<'import'> = async (ctx, { text, passphrase, origin }) => {
  const vault = await ctx.requireOpen();
  let incoming: VaultAccount[];
  /** Each incoming account's line in a file of links (a backup has none). */
  const lines: Array<number | null> = [];
  const errors: Array<{ line: number; message: string }> = [];
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
    // Line by line, so each account keeps its line number for the report ("line 7: repeats line 3").
    const fillOrigin = normalizeOrigin(origin);
    incoming = [];
    text.split(/\r?\n/).forEach((raw, index) => {
      const parsed = parseOtpauthLines(raw);
      for (const params of parsed.accounts) {
        incoming.push(newAccount(params, fillOrigin, ctx.deps.now()));
        lines.push(index + 1);
      }
      for (const error of parsed.errors) errors.push({ line: index + 1, message: error.message });
    });
    if (incoming.length === 0 && errors.length === 0) throw new UserFacingError('The file is empty: nothing to import.');
  }
  const merged = mergeAccounts(vault.payload.accounts, incoming);
  const payload = { ...vault.payload, accounts: merged.accounts };
  if (merged.added.length > 0) await ctx.save(vault, payload);
  const skipped = explainSkips(merged, incoming, lines);
  return { backup: backupStatus(payload), added: merged.added.length, ...skipped, errors };
};

/**
 * What each skipped account ran into, as mergeAccounts found it: the vault's account under its own name, or an
 * earlier line of this file. The report named a skipped account by its own name and said "already in the vault",
 * also when the vault's account had another name and when the repeat was an earlier line of the same file (QA).
 */
function explainSkips(
  merged: MergeResult,
  incoming: readonly VaultAccount[],
  lines: ReadonlyArray<number | null>,
): { duplicates: ImportSkip[]; conflicts: ImportSkip[] } {
  const lineOf = new Map(incoming.map((account, index) => [account, lines[index] ?? null]));
  const skip = (account: VaultAccount): ImportSkip => {
    const name = describeAccount(account);
    const ranInto = merged.ranInto.get(account)!;
    const sameAs = lineOf.has(ranInto)
      ? ({ in: 'file', name: describeAccount(ranInto), line: lineOf.get(ranInto)! } as const)
      : ({ in: 'vault', name: describeAccount(ranInto) } as const);
    return { name, line: lineOf.get(account) ?? null, sameAs };
  };
  return { duplicates: merged.duplicates.map(skip), conflicts: merged.conflicts.map(skip) };
}
