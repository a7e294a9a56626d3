import { identityKey, mergeAccounts, newAccount, parseOtpauthLines, readBackup, secretKey } from '../../vault/backup.js';
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
  const skipped = explainSkips(vault.payload.accounts, incoming, lines, new Set(merged.duplicates), new Set(merged.conflicts));
  return { backup: backupStatus(payload), added: merged.added.length, ...skipped, errors };
};

/**
 * What each skipped account ran into. The report named a skipped account by its own name and said "already in
 * the vault", also when the vault's account had another name and when the repeat was an earlier line of the same
 * file (QA). Replays {@link mergeAccounts}' order with its own keys: an incoming account is compared with the
 * vault's accounts and with those added before it, and only added ones become something a later one runs into.
 */
function explainSkips(
  existing: readonly VaultAccount[],
  incoming: readonly VaultAccount[],
  lines: ReadonlyArray<number | null>,
  duplicates: ReadonlySet<VaultAccount>,
  conflicts: ReadonlySet<VaultAccount>,
): { duplicates: ImportSkip[]; conflicts: ImportSkip[] } {
  const bySecret = new Map<string, ImportSkip['sameAs']>();
  const byIdentity = new Map<string, ImportSkip['sameAs']>();
  for (const account of existing) {
    const sameAs = { in: 'vault', name: describeAccount(account) } as const;
    if (!bySecret.has(secretKey(account))) bySecret.set(secretKey(account), sameAs);
    if (!byIdentity.has(identityKey(account))) byIdentity.set(identityKey(account), sameAs);
  }
  const result: { duplicates: ImportSkip[]; conflicts: ImportSkip[] } = { duplicates: [], conflicts: [] };
  incoming.forEach((account, index) => {
    const name = describeAccount(account);
    const line = lines[index] ?? null;
    // The fallbacks cannot be reached (the replay sees what the merge saw); they keep every skip in the report.
    if (duplicates.has(account)) {
      result.duplicates.push({ name, line, sameAs: bySecret.get(secretKey(account)) ?? { in: 'vault', name } });
    } else if (conflicts.has(account)) {
      result.conflicts.push({ name, line, sameAs: byIdentity.get(identityKey(account)) ?? { in: 'vault', name } });
    } else {
      const sameAs = { in: 'file', name, line } as const;
      bySecret.set(secretKey(account), sameAs);
      byIdentity.set(identityKey(account), sameAs);
    }
  });
  return result;
}
