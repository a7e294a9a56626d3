import { describe, expect, it } from 'vitest';
import { assertKdfParams, deriveVaultKey, type KdfParams, warmUpKdf } from './kdf.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const SALT = new Uint8Array(16).fill(0x2a);

describe('the vault KDF (argon2id, WebAssembly SIMD)', () => {
  // Expected keys computed with libargon2 (the reference C implementation, through the server's `argon2`
  // package) for the NFC form of the passphrase and a 16-byte salt of 0x2a.
  const passphrase = 'correct horse battery staple \u00e9';
  it.each([
    [{ alg: 'argon2id', m: 64, t: 1, p: 1 }, 'b17bc92692b8877f603f70aabead93613e733df880b6e0d06c5cdbf1a6441437'],
    [{ alg: 'argon2id', m: 1024, t: 3, p: 4 }, '81adeda8449d3b56e21807fe2e1a912bd570f43a0a8616c3fbf7bf6f5939a308'],
    [{ alg: 'argon2id', m: 65536, t: 3, p: 4 }, '24df1b30fdc5bf7eb35615c21f6abd309304e01dcb130b4a2b20af9503c6a464'],
  ] satisfies [KdfParams, string][])('derives the reference key for m=%o', async (params, expected) => {
    expect(hex(await deriveVaultKey(passphrase, params, SALT))).toBe(expected);
  });

  it('normalizes the passphrase to NFC, so a decomposed "é" unlocks the same vault', async () => {
    const params: KdfParams = { alg: 'argon2id', m: 64, t: 1, p: 1 };
    const decomposed = 'correct horse battery staple e\u0301';
    expect(decomposed).not.toBe(passphrase);
    expect(hex(await deriveVaultKey(decomposed, params, SALT))).toBe(hex(await deriveVaultKey(passphrase, params, SALT)));
  });

  it('refuses tampered cost parameters and salts with a message naming the value', async () => {
    expect(() => assertKdfParams({ alg: 'argon2id', m: 64, t: 1, p: 0 })).toThrow(/0 lanes \(p=0; allowed 1 to 16\)/);
    expect(() => assertKdfParams({ alg: 'argon2id', m: 64, t: 99, p: 1 })).toThrow(/99 passes \(t=99; allowed 1 to 10\)/);
    expect(() => assertKdfParams({ alg: 'argon2id', m: 4 * 1024 * 1024, t: 1, p: 1 })).toThrow(
      /4096 MiB of memory \(m=4194304 KiB; allowed 8 KiB to 256 MiB\)/,
    );
    await expect(deriveVaultKey(passphrase, { alg: 'argon2id', m: 64, t: 1, p: 1 }, new Uint8Array(8))).rejects.toThrow(/salt length/);
  });

  it('warms up without throwing, even for parameters it refuses, and leaves a User Timing measure per real derivation', async () => {
    await expect(warmUpKdf({ alg: 'argon2id', m: 1024, t: 3, p: 4 })).resolves.toBeUndefined();
    await expect(warmUpKdf({ alg: 'argon2id', m: 1024 * 1024 * 1024, t: 16, p: 16 })).resolves.toBeUndefined();
    const before = performance.getEntriesByName('latchkey:kdf').length;
    await deriveVaultKey(passphrase, { alg: 'argon2id', m: 64, t: 1, p: 1 }, SALT);
    expect(performance.getEntriesByName('latchkey:kdf')).toHaveLength(before + 1);
  });
});
