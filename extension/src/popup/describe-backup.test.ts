import { describe, expect, it } from 'vitest';
import { describeBackup } from './describe-backup.js';

const DAY = Date.UTC(2026, 10, 30, 16, 0, 0);

describe('describeBackup', () => {
  it('says when there was none, and what is at stake', () => {
    expect(describeBackup({ lastAt: null, accountsSince: 0, accounts: 0 })).toBe('No backup yet; nothing to back up either.');
    expect(describeBackup({ lastAt: null, accountsSince: 1, accounts: 1 })).toBe(
      'No backup yet. If you forget your passphrase, a backup is the only way to get this account back.',
    );
    expect(describeBackup({ lastAt: null, accountsSince: 3, accounts: 3 })).toBe(
      'No backup yet. If you forget your passphrase, a backup is the only way to get these 3 accounts back.',
    );
  });

  it('dates the last one and counts the accounts added since', () => {
    expect(describeBackup({ lastAt: DAY, accountsSince: 0, accounts: 4 })).toBe('Last backup 2026-11-30, with every account.');
    expect(describeBackup({ lastAt: DAY, accountsSince: 1, accounts: 4 })).toBe('Last backup 2026-11-30. 1 account added since is in no backup.');
    expect(describeBackup({ lastAt: DAY, accountsSince: 2, accounts: 4 })).toBe('Last backup 2026-11-30. 2 accounts added since are in no backup.');
  });
});
