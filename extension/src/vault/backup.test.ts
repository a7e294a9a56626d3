import { describe, expect, it } from 'vitest';
import * as kdf from './kdf.js';
import { exportBackup, mergeAccounts, readBackup } from './backup.js';
import { emptyPayload, type VaultAccount } from './payload.js';
import { newKdfHeader } from './vault-store.js';
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
});
