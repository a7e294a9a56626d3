import { localDate } from '../background/local-date.js';
import type { BackupStatus } from '../background/messages.js';

const accounts = (n: number) => (n === 1 ? '1 account' : `${n} accounts`);

/**
 * The Backup card's one line: when the last backup was exported and which accounts no backup holds. A
 * forgotten passphrase can only be recovered from a backup, so an account in none is said plainly.
 */
export function describeBackup(status: BackupStatus): string {
  if (status.lastAt === null) {
    if (status.accounts === 0) return 'No backup yet; nothing to back up either.';
    return `No backup yet. If you forget your passphrase, a backup is the only way to get ${status.accounts === 1 ? 'this account' : `these ${accounts(status.accounts)}`} back.`;
  }
  const date = localDate(status.lastAt);
  if (status.accountsSince === 0) return `Last backup ${date}, with every account.`;
  return `Last backup ${date}. ${accounts(status.accountsSince)} added since ${status.accountsSince === 1 ? 'is' : 'are'} in no backup.`;
}
