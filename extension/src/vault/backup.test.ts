import { describe, expect, it } from 'vitest';
import * as kdf from './kdf.js';
import { exportBackup, mergeAccounts, readBackup } from './backup.js';
import { emptyPayload, type VaultAccount } from './payload.js';
import { newKdfHeader } from './vault-store.js';
import { newVaultId, sealRecord, serializeRecord, VaultFormatError } from './record.js';
import { utf8 } from './encoding.js';
import { fromBase64 } from './encoding.js';

const CHEAP: kdf.KdfParams = { alg: 'argon2id', m: 64, t: 1, p: 1 };
const PASS = 'backup passphrase';

async function backupWith(cost: kdf.KdfParams): Promise<string> {
  const header = newKdfHeader(CHEAP);
  const key = await kdf.deriveVaultKey(PASS, header, fromBase64(header.salt));
  const file = JSON.parse(exportBackup(key, header, emptyPayload())) as { record: string };
  const record = JSON.parse(file.record) as { kdf: kdf.KdfHeader };
  // A crafted file: same shape, the cost raised (the tag no longer matches, but that is only found after deriving).
  record.kdf = { ...record.kdf, m: cost.m, t: cost.t, p: cost.p };
  return JSON.stringify({ ...file, record: JSON.stringify(record) });
}

describe('backup files', () => {
  it('round-trips with the passphrase they were exported under', async () => {
    const header = newKdfHeader(CHEAP);
    const key = await kdf.deriveVaultKey(PASS, header, fromBase64(header.salt));
    expect(await readBackup(exportBackup(key, header, emptyPayload()), PASS)).toEqual([]);
  });

  it.each([
    [{ alg: 'argon2id', m: 1024 * 1024, t: 16, p: 16 }, /1024 MiB of memory.*to 256 MiB.*16 passes \(t=16; allowed 1 to 10\)/],
    [{ alg: 'argon2id', m: 512 * 1024, t: 3, p: 4 }, /512 MiB of memory/],
    [{ alg: 'argon2id', m: 64 * 1024, t: 11, p: 4 }, /11 passes \(t=11; allowed 1 to 10\)/],
    [{ alg: 'argon2id', m: 64 * 1024, t: 3, p: 64 }, /64 lanes \(p=64; allowed 1 to 16\)/],
  ] satisfies [kdf.KdfParams, RegExp][])('refuses a crafted cost (m=$m KiB, t=$t, p=$p) before deriving anything', async (cost, message) => {
    const text = await backupWith(cost);
    const derivations = performance.getEntriesByName(kdf.KDF_MEASURE).length;
    const started = performance.now();
    await expect(readBackup(text, PASS)).rejects.toThrow(message);
    expect(performance.getEntriesByName(kdf.KDF_MEASURE)).toHaveLength(derivations); // no key derived
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

/** A backup file that opens with {@link PASS} and holds `contents` as its payload, whatever they are. */
async function backupHolding(contents: string): Promise<string> {
  const header = newKdfHeader(CHEAP);
  const key = await kdf.deriveVaultKey(PASS, header, fromBase64(header.salt));
  const record = serializeRecord(sealRecord(key, header, { id: newVaultId(), counter: 1 }, utf8.encode(contents)));
  return JSON.stringify({ format: 'latchkey-backup', exportedAt: '2026-11-30T00:00:00.000Z', record });
}

describe('a backup that opens but holds no vault Latchkey can read', () => {
  const account = {
    id: 'a',
    issuer: 'PyPI',
    label: 'alice',
    secret: 'JBSWY3DPEHPK3PXP',
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    origin: 'https://pypi.org',
    createdAt: 1,
  };
  const settings = { autoLockMinutes: 15, autoSubmit: false };
  it.each([
    ['not JSON', 'hello', /contents are not a vault this version of Latchkey can read\. Nothing was imported\.$/],
    ['no accounts', JSON.stringify({ settings }), /contents are not a vault .*Nothing was imported/],
    [
      'an account with a 5 s period',
      JSON.stringify({ accounts: [{ ...account, period: 5 }], settings }),
      /\(an account in it: The period must be .*10 to 300\)\. Nothing was imported\.$/,
    ],
    [
      'an account on plain http',
      JSON.stringify({ accounts: [{ ...account, origin: 'http://evil.example' }], settings }),
      /\(an account in it: Codes are only filled over https:\/\/ \(plain http:\/\/ is allowed for localhost only\)\)\. Nothing/,
    ],
  ])('%s: refused in plain words, never a raw parser message', async (_name, contents, message) => {
    const text = await backupHolding(contents);
    const refusal = readBackup(text, PASS);
    await expect(refusal).rejects.toThrow(VaultFormatError);
    await expect(readBackup(text, PASS)).rejects.toThrow(message);
  });
});

describe('mergeAccounts', () => {
  const account = (secret: string, label = 'alice'): VaultAccount => ({
    id: crypto.randomUUID(),
    issuer: 'PyPI',
    label,
    secret,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    origin: 'https://pypi.org',
    createdAt: 0,
  });

  it.each([
    ['JBSWY3DPEHPK3PXPA', 'JBSWY3DPEHPK3PXP'],
    ['JBSWY3DPEHPK3PXPJBSWY3DPEH', 'JBSWY3DPEHPK3PXPJBSWY3DPEE'],
  ])('knows a secret stored as typed (%s, before secrets were canonicalised) is the same key as %s', (stored, canonical) => {
    const existing = [account(stored)];
    for (const label of ['alice', 'bob']) {
      const result = mergeAccounts(existing, [account(canonical, label)]);
      expect(result).toMatchObject({ added: [], conflicts: [], duplicates: [{ label }] });
      expect(result.accounts).toEqual(existing); // the stored account is left as it was
    }
  });

  it('merges the largest import (1 MiB of links: about 14 000) into a large vault in well under a second per thousand', () => {
    const secretOf = (i: number) => `JBSWY3DPEHPK3PXP${i.toString(2).padStart(16, '0').replaceAll('0', 'A').replaceAll('1', 'B')}`;
    const existing = Array.from({ length: 2_000 }, (_, i) => account(secretOf(i), `user${i}`));
    const incoming = Array.from({ length: 14_000 }, (_, i) => account(secretOf(i + 1_000), `user${i + 1_000}`));
    const started = performance.now();
    const result = mergeAccounts(existing, [...incoming, account(secretOf(3), 'user3'), account(secretOf(99_999), 'user5')]);
    // Compared pair by pair this took minutes, the background answering nothing else meanwhile.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result.added).toHaveLength(13_000);
    expect(result.duplicates).toHaveLength(1_000 + 1);
    expect(result.conflicts.map((a) => a.label)).toEqual(['user5']);
    expect(result.accounts).toHaveLength(15_000);
  });
});
