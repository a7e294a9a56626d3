import { describe, expect, it } from 'vitest';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { DEFAULT_KDF, deriveVaultKey, type KdfParams } from './kdf.js';
import { fromBase64, toBase64 } from './encoding.js';
import { emptyPayload } from './payload.js';
import { MemoryStorage, type FailureMode } from './memory-storage.test-helper.js';
import { exportBackup, newAccount } from './backup.js';
import type { VaultPayload } from './payload.js';
import { parseRecord, VaultAuthError, VaultFormatError } from './record.js';
import {
  changePassphrase,
  createVault,
  eraseVault,
  openVault,
  readVault,
  type Rollback,
  rollbackMessage,
  unlockVault,
  VAULT_KEYS,
  VaultExistsError,
  VaultMissingError,
  VaultRollbackError,
  VaultWriteError,
  newKdfHeader,
  writeVault,
} from './vault-store.js';

/** Cheap cost so the suite stays fast; the real default is exercised once below. */
const CHEAP: KdfParams = { alg: 'argon2id', m: 64, t: 1, p: 1 };
const PASS = 'correct horse battery staple';

function withAccount(payload: VaultPayload, label: string): VaultPayload {
  const account = newAccount({ issuer: 'PyPI', label, secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30 }, 'https://pypi.org');
  return { ...payload, accounts: [...payload.accounts, account] };
}

describe('vault store', () => {
  it('round-trips: create, write, unlock with the passphrase', async () => {
    const storage = new MemoryStorage();
    const vault = await createVault(storage, PASS, CHEAP);
    const payload = withAccount(vault.payload, 'alice');
    await writeVault(storage, vault.key, vault.kdf, payload);
    const reopened = await unlockVault(storage, PASS);
    expect(reopened.payload).toEqual(payload);
    expect(reopened.restoredFromPrevious).toBe(false);
    expect(openVault(await readVault(storage), reopened.key, reopened.kdf).payload).toEqual(payload);
  });

  it('stores {v, id, counter, kdf, nonce, ciphertext} with a fresh nonce per write and no plaintext', async () => {
    const storage = new MemoryStorage();
    const vault = await createVault(storage, PASS, CHEAP);
    const first = parseRecord(storage.data.get(VAULT_KEYS.primary));
    await writeVault(storage, vault.key, vault.kdf, withAccount(vault.payload, 'alice'));
    const text = storage.data.get(VAULT_KEYS.primary) as string;
    const second = parseRecord(text);
    expect(Object.keys(JSON.parse(text))).toEqual(['v', 'id', 'counter', 'kdf', 'nonce', 'ciphertext']);
    expect(second.kdf).toEqual({ ...CHEAP, salt: first.kdf.salt });
    expect(second.nonce).not.toBe(first.nonce);
    expect(text).not.toMatch(/alice|JBSWY3DP/);
    expect(storage.data.get(VAULT_KEYS.previous)).toBe(JSON.stringify(first));
  });

  it('refuses to create over an existing vault', async () => {
    const storage = new MemoryStorage();
    await createVault(storage, PASS, CHEAP);
    await expect(createVault(storage, 'other', CHEAP)).rejects.toThrow(VaultExistsError);
  });

  it('says when there is no vault', async () => {
    await expect(unlockVault(new MemoryStorage(), PASS)).rejects.toThrow(VaultMissingError);
  });

  it('a new vault after an erase, the browser stopped right after its first record: it opens with no "foreign copy" report', async () => {
    const stop = { armed: false, stopped: false };
    /** Storage that, once armed, takes nothing more after the vault's record is stored (the browser stopped there). */
    class StopsAfterRecord extends MemoryStorage {
      override async set(items: Record<string, unknown>): Promise<void> {
        if (stop.stopped) throw new Error('the browser stopped');
        await super.set(items);
        if (stop.armed && VAULT_KEYS.primary in items) stop.stopped = true;
      }
    }
    const sync = new StopsAfterRecord();
    const storage = new StopsAfterRecord([sync]);
    await createVault(storage, PASS, CHEAP); // the vault that is then forgotten: the marks remember it
    await eraseVault(storage);
    stop.armed = true;
    await createVault(storage, 'a new passphrase for the new vault', CHEAP);
    stop.stopped = false;
    const opened = await unlockVault(storage, 'a new passphrase for the new vault');
    expect(opened.rollback).toBeNull();
  });

  it('a change that would make the record too large to read back is refused as such, storage untouched', async () => {
    const storage = new MemoryStorage();
    const vault = await createVault(storage, PASS, CHEAP);
    const before = storage.snapshot();
    // About 14 000 accounts (an import of 1 MiB of links, twice over) seal to more than the 4 MiB a record may hold.
    const one = withAccount(vault.payload, 'x').accounts[0]!;
    const huge = { ...vault.payload, accounts: Array.from({ length: 28_000 }, (_, i) => ({ ...one, id: `a${i}`, label: `account number ${i}` })) };
    await expect(writeVault(storage, vault.key, vault.kdf, huge)).rejects.toThrow(/too large to store \(over 4 MiB\): nothing was changed/);
    await expect(writeVault(storage, vault.key, vault.kdf, huge)).rejects.toBeInstanceOf(VaultWriteError);
    expect(storage.snapshot()).toBe(before);
  });

  it('100 wrong passphrases leave storage byte-for-byte intact and the right one still works', async () => {
    const storage = new MemoryStorage();
    const vault = await createVault(storage, PASS, CHEAP);
    await writeVault(storage, vault.key, vault.kdf, withAccount(vault.payload, 'alice'));
    const before = storage.snapshot();
    const mutations = storage.mutations;
    for (let i = 0; i < 100; i++) {
      await expect(unlockVault(storage, `${PASS} ${i}`)).rejects.toThrow(VaultAuthError);
    }
    expect(storage.mutations).toBe(mutations);
    expect(storage.snapshot()).toBe(before);
    expect((await unlockVault(storage, PASS)).payload.accounts[0]?.label).toBe('alice');
  }, 60_000);

  it('detects every single-byte change of the stored record', async () => {
    const storage = new MemoryStorage();
    const vault = await createVault(storage, PASS, CHEAP);
    await writeVault(storage, vault.key, vault.kdf, withAccount(vault.payload, 'alice'));
    storage.data.delete(VAULT_KEYS.previous); // no fallback: the tampered record is all there is
    const original = storage.data.get(VAULT_KEYS.primary) as string;
    let detected = 0;
    for (let i = 0; i < original.length; i++) {
      for (const replacement of tamperedCharacters(original.charCodeAt(i))) {
        storage.data.set(VAULT_KEYS.primary, original.slice(0, i) + replacement + original.slice(i + 1));
        const outcome = await unlockVault(storage, PASS).then(
          () => 'opened',
          (error: unknown) => (error instanceof VaultAuthError || error instanceof VaultFormatError ? 'detected' : String(error)),
        );
        expect(outcome, `byte ${i} -> ${JSON.stringify(replacement)}`).toBe('detected');
        detected += 1;
      }
    }
    expect(detected).toBe(original.length * 2);
    storage.data.set(VAULT_KEYS.primary, original);
    expect((await unlockVault(storage, PASS)).payload.accounts).toHaveLength(1);
  }, 120_000); // ~500 unlocks: about 2 s on an idle machine, far more on a busy shared one

  it('falls back to the previous record when the current one is altered, and says so', async () => {
    const storage = new MemoryStorage();
    const vault = await createVault(storage, PASS, CHEAP);
    await writeVault(storage, vault.key, vault.kdf, withAccount(vault.payload, 'alice'));
    const text = storage.data.get(VAULT_KEYS.primary) as string;
    storage.data.set(
      VAULT_KEYS.primary,
      text.replace(/"ciphertext":"(.)/, (_m, c: string) => `"ciphertext":"${c === 'A' ? 'B' : 'A'}`),
    );
    const opened = await unlockVault(storage, PASS);
    expect(opened.restoredFromPrevious).toBe(true);
    // an older copy is in use: that is said too (a damaged write and a deliberate rollback look alike)
    expect(opened.rollback).toMatchObject({ expected: parseRecord(text).counter });
    expect(opened.payload.accounts).toHaveLength(0); // the state before the altered write
  });

  it.each([1, 2, 3, 5, 10, 100, 150])('refuses a record truncated to %i characters', async (length) => {
    const storage = new MemoryStorage();
    await createVault(storage, PASS, CHEAP);
    storage.data.set(VAULT_KEYS.primary, (storage.data.get(VAULT_KEYS.primary) as string).slice(0, length));
    await expect(unlockVault(storage, PASS)).rejects.toThrow(VaultFormatError);
  });

  it('refuses a record with an unknown version or absurd KDF cost before running the KDF', async () => {
    const storage = new MemoryStorage();
    await createVault(storage, PASS, CHEAP);
    const record = JSON.parse(storage.data.get(VAULT_KEYS.primary) as string) as Record<string, unknown>;
    storage.data.set(VAULT_KEYS.primary, JSON.stringify({ ...record, v: 3 }));
    await expect(unlockVault(storage, PASS)).rejects.toThrow(VaultFormatError);
    const kdf = record.kdf as Record<string, unknown>;
    storage.data.set(VAULT_KEYS.primary, JSON.stringify({ ...record, kdf: { ...kdf, m: 2 ** 30 } }));
    await expect(unlockVault(storage, PASS)).rejects.toThrow(VaultFormatError);
  });

  describe.each<FailureMode>(['before', 'after', 'torn'])('a write interrupted (%s) at any step', (mode) => {
    it.each([1, 2, 3])('at mutation %i keeps a vault that opens with the old or the new contents', async (step) => {
      const storage = new MemoryStorage();
      const vault = await createVault(storage, PASS, CHEAP);
      const old = withAccount(vault.payload, 'alice');
      await writeVault(storage, vault.key, vault.kdf, old);
      const next = withAccount(old, 'bob');
      storage.failAt = storage.mutations + step;
      storage.failMode = mode;
      const write = await writeVault(storage, vault.key, vault.kdf, next).then(
        () => 'ok',
        () => 'failed',
      );
      storage.failAt = null;
      const opened = await unlockVault(storage, PASS);
      if (write === 'ok') expect(opened.payload).toEqual(next);
      else expect([old, next]).toContainEqual(opened.payload);
      // and the vault keeps working afterwards
      await writeVault(storage, opened.key, opened.kdf, next);
      expect((await unlockVault(storage, PASS)).payload).toEqual(next);
    });
  });

  it('changes the passphrase: new one opens, old one no longer does', async () => {
    const storage = new MemoryStorage();
    const vault = await createVault(storage, PASS, CHEAP);
    const payload = withAccount(vault.payload, 'alice');
    await writeVault(storage, vault.key, vault.kdf, payload);
    const changed = await changePassphrase(storage, PASS, 'a new passphrase', CHEAP);
    expect(changed.kdf.salt).not.toBe(vault.kdf.salt);
    expect((await unlockVault(storage, 'a new passphrase')).payload).toEqual(payload);
    await expect(unlockVault(storage, PASS)).rejects.toThrow(VaultAuthError);
    expect(storage.data.has(VAULT_KEYS.previous)).toBe(false);
  });

  it('refuses to change the passphrase when the current one is wrong, changing nothing', async () => {
    const storage = new MemoryStorage();
    await createVault(storage, PASS, CHEAP);
    const before = storage.snapshot();
    await expect(changePassphrase(storage, 'wrong', 'new', CHEAP)).rejects.toThrow(VaultAuthError);
    expect(storage.snapshot()).toBe(before);
  });

  describe.each<FailureMode>(['before', 'after', 'torn'])('a passphrase change interrupted (%s)', (mode) => {
    it.each([1, 2, 3])('at mutation %i leaves the vault opening with exactly one of the passphrases', async (step) => {
      const storage = new MemoryStorage();
      const vault = await createVault(storage, PASS, CHEAP);
      const payload = withAccount(vault.payload, 'alice');
      await writeVault(storage, vault.key, vault.kdf, payload);
      storage.failAt = storage.mutations + step;
      storage.failMode = mode;
      const change = await changePassphrase(storage, PASS, 'new passphrase', CHEAP).then(
        () => 'ok',
        () => 'failed',
      );
      storage.failAt = null;
      const withOld = await unlockVault(storage, PASS).then(
        (v) => v.payload,
        () => null,
      );
      const withNew = await unlockVault(storage, 'new passphrase').then(
        (v) => v.payload,
        () => null,
      );
      expect(withOld ?? withNew).toEqual(payload);
      if (change === 'ok') expect(withNew).toEqual(payload);
    });
  });

  describe('rollback: the record carries a counter that only goes up, inside the associated data', () => {
    it('counts every write, and the counter is authenticated', async () => {
      const storage = new MemoryStorage();
      const vault = await createVault(storage, PASS, CHEAP);
      const first = parseRecord(storage.data.get(VAULT_KEYS.primary));
      await writeVault(storage, vault.key, vault.kdf, withAccount(vault.payload, 'alice'));
      const second = parseRecord(storage.data.get(VAULT_KEYS.primary));
      expect(second.counter).toBe(first.counter + 1);
      expect(second.id).toBe(first.id);
      // Raise the stored counter by hand (still canonical): authentication fails, as for any other change.
      storage.data.delete(VAULT_KEYS.previous);
      const text = storage.data.get(VAULT_KEYS.primary) as string;
      storage.data.set(VAULT_KEYS.primary, text.replace(`"counter":${second.counter}`, `"counter":${second.counter + 5}`));
      await expect(unlockVault(storage, PASS)).rejects.toThrow(VaultAuthError);
    });

    it('reports the previous copy swapped in for the current one, instead of using it silently', async () => {
      const storage = new MemoryStorage();
      const vault = await createVault(storage, PASS, CHEAP);
      await writeVault(storage, vault.key, vault.kdf, withAccount(vault.payload, 'alice'));
      const older = storage.data.get(VAULT_KEYS.previous) as string;
      storage.data.set(VAULT_KEYS.primary, older); // an attacker (or a stale sync) puts the older copy back
      const opened = await unlockVault(storage, PASS);
      expect(opened.rollback).toEqual({ found: parseRecord(older).counter, expected: parseRecord(older).counter + 1 });
      expect(opened.payload.accounts).toHaveLength(0);
    });

    it('detects a whole storage.local rolled back, when the mark also lives in another area', async () => {
      const sync = new MemoryStorage();
      const storage = new MemoryStorage([sync]);
      const vault = await createVault(storage, PASS, CHEAP);
      const before = new Map(storage.data); // a copy of everything in storage.local, mark included
      await writeVault(storage, vault.key, vault.kdf, withAccount(vault.payload, 'alice'));
      storage.data.clear();
      for (const [key, value] of before) storage.data.set(key, value);
      const opened = await unlockVault(storage, PASS);
      expect(opened.rollback).toMatchObject({ found: 1, expected: 2 });
    });

    it('cannot see a whole storage.local rolled back when storage.local is the only place (the documented limit)', async () => {
      const storage = new MemoryStorage();
      const vault = await createVault(storage, PASS, CHEAP);
      const before = new Map(storage.data);
      await writeVault(storage, vault.key, vault.kdf, withAccount(vault.payload, 'alice'));
      storage.data.clear();
      for (const [key, value] of before) storage.data.set(key, value);
      expect((await unlockVault(storage, PASS)).rollback).toBeNull();
    });

    it('refuses an older record swapped in while the vault is open (the session key sees it)', async () => {
      const storage = new MemoryStorage();
      const vault = await createVault(storage, PASS, CHEAP);
      await writeVault(storage, vault.key, vault.kdf, withAccount(vault.payload, 'alice'));
      storage.data.set(VAULT_KEYS.primary, storage.data.get(VAULT_KEYS.previous));
      const stored = await readVault(storage);
      expect(() => openVault(stored, vault.key, vault.kdf)).toThrow(VaultRollbackError);
    });

    it('a write after a reported rollback continues above the highest counter seen', async () => {
      const storage = new MemoryStorage();
      const vault = await createVault(storage, PASS, CHEAP);
      await writeVault(storage, vault.key, vault.kdf, withAccount(vault.payload, 'alice'));
      const highest = parseRecord(storage.data.get(VAULT_KEYS.primary)).counter;
      storage.data.set(VAULT_KEYS.primary, storage.data.get(VAULT_KEYS.previous));
      const opened = await unlockVault(storage, PASS);
      await writeVault(storage, opened.key, opened.kdf, opened.payload);
      expect(parseRecord(storage.data.get(VAULT_KEYS.primary)).counter).toBe(highest + 1);
      expect((await unlockVault(storage, PASS)).rollback).toBeNull();
    });

    it("reports an exported backup put in the vault's place (same key, its own id), at unlock and mid-session", async () => {
      const sync = new MemoryStorage();
      const storage = new MemoryStorage([sync]);
      const vault = await createVault(storage, PASS, CHEAP);
      const backup = (JSON.parse(exportBackup(vault.key, vault.kdf, vault.payload)) as { record: string }).record;
      await writeVault(storage, vault.key, vault.kdf, withAccount(vault.payload, 'alice'));
      // The backup file's record as the vault (no fallback left): it opens with the same passphrase.
      storage.data.set(VAULT_KEYS.primary, backup);
      storage.data.delete(VAULT_KEYS.previous);
      await expect(readVault(storage).then((stored) => openVault(stored, vault.key, vault.kdf))).rejects.toThrow(/not the one this browser saved/);
      const opened = await unlockVault(storage, PASS);
      expect(opened.payload.accounts).toHaveLength(0);
      expect(opened.rollback).toEqual({ found: 1, expected: 0, foreign: true });
      expect(rollbackMessage(opened.rollback as Rollback)).toMatch(/backup .*Check your accounts/);
      // Once reported, the next write adopts it: it opens quietly from then on.
      await writeVault(storage, opened.key, opened.kdf, opened.payload);
      expect((await unlockVault(storage, PASS)).rollback).toBeNull();
    });

    it('a vault sealed before counters existed (v1) still opens, and its next write carries one', async () => {
      const storage = new MemoryStorage();
      const header = newKdfHeader(CHEAP);
      const key = await deriveVaultKey(PASS, header, fromBase64(header.salt));
      const payload = withAccount(emptyPayload(), 'alice');
      const nonce = new Uint8Array(24).fill(7);
      const ad = new TextEncoder().encode(JSON.stringify({ v: 1, kdf: header }));
      const sealed = xchacha20poly1305(key, nonce, ad).encrypt(new TextEncoder().encode(JSON.stringify(payload)));
      storage.data.set(VAULT_KEYS.primary, JSON.stringify({ v: 1, kdf: header, nonce: toBase64(nonce), ciphertext: toBase64(sealed) }));
      const opened = await unlockVault(storage, PASS);
      expect(opened.payload).toEqual(payload);
      expect(opened.rollback).toBeNull();
      await writeVault(storage, opened.key, opened.kdf, opened.payload);
      expect(parseRecord(storage.data.get(VAULT_KEYS.primary))).toMatchObject({ v: 2, counter: 1 });
      // and the old v1 copy, put back after the upgrade, is a rollback
      const v2 = storage.data.get(VAULT_KEYS.primary);
      storage.data.set(VAULT_KEYS.primary, storage.data.get(VAULT_KEYS.previous));
      expect((await unlockVault(storage, PASS)).rollback).toMatchObject({ found: 0, expected: 1 });
      storage.data.set(VAULT_KEYS.primary, v2);
    });
  });

  it('works at the real default cost (argon2id 64 MiB, t=3, p=4)', async () => {
    const storage = new MemoryStorage();
    const vault = await createVault(storage, PASS);
    expect(parseRecord(storage.data.get(VAULT_KEYS.primary)).kdf).toMatchObject(DEFAULT_KDF);
    const started = performance.now();
    const opened = await unlockVault(storage, PASS);
    console.info(
      `argon2id ${DEFAULT_KDF.m} KiB t=${DEFAULT_KDF.t} p=${DEFAULT_KDF.p} unlock in Node (WebAssembly SIMD): ${Math.round(performance.now() - started)} ms`,
    );
    expect(opened.key).toEqual(vault.key);
  }, 60_000);
});

/** Two different characters to put in place of `code`: one near it, one far from it. */
function tamperedCharacters(code: number): string[] {
  return [String.fromCharCode(code ^ 1), String.fromCharCode(code === 0x41 ? 0x7a : 0x41)];
}
