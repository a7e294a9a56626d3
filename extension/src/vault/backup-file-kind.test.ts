import { describe, expect, it } from 'vitest';
import { exportBackup } from './backup.js';
import { backupFileKind } from './backup-file-kind.js';
import { fromBase64 } from './encoding.js';
import * as kdf from './kdf.js';
import { emptyPayload } from './payload.js';
import { newKdfHeader } from './vault-store.js';

async function realBackup(): Promise<string> {
  const header = newKdfHeader({ alg: 'argon2id', m: 64, t: 1, p: 1 });
  const key = await kdf.deriveVaultKey('backup passphrase', header, fromBase64(header.salt));
  return exportBackup(key, header, emptyPayload());
}

describe('backupFileKind', () => {
  it('knows a real exported backup, with or without space before it', async () => {
    const text = await realBackup();
    expect(backupFileKind(text)).toBe('backup');
    expect(backupFileKind(`\n  \t${text}`)).toBe('backup');
  });

  it('calls a backup cut short (its first 60 %) damaged, not a list of links', async () => {
    const text = await realBackup();
    expect(backupFileKind(text.slice(0, Math.floor(text.length * 0.6)))).toBe('damaged-json');
    expect(backupFileKind('  {"format": "latchkey-backup", ')).toBe('damaged-json');
    expect(backupFileKind('[1, 2')).toBe('damaged-json');
  });

  it.each([['[]'], ['{}'], ['  {"format": "something-else", "record": "{}"}'], ['{"format": ["latchkey-backup"]}'], ['[{"format": "latchkey-backup"}]']])(
    'calls valid JSON that is not a Latchkey backup other JSON: %s',
    (text) => {
      expect(backupFileKind(text)).toBe('other-json');
    },
  );

  it.each([
    ['otpauth://totp/PyPI:alice?secret=JBSWY3DPEHPK3PXP&issuer=PyPI\n'],
    ['# my accounts\notpauth://totp/PyPI:alice?secret=JBSWY3DPEHPK3PXP\n{'],
    ['"latchkey-backup"'],
    ['42'],
    [''],
    ['  \n'],
  ])('reads anything else as otpauth lines: %j', (text) => {
    expect(backupFileKind(text)).toBe('lines');
  });
});
