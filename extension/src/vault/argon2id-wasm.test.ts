import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createArgon2idWasm } from './argon2id-wasm.js';
import { argon2idWasm } from './argon2id-wasm-inline.js';

const loadBinary = () => readFile(createRequire(import.meta.url).resolve('@phi-ag/argon2/argon2.wasm'));

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const utf8 = (text: string) => new TextEncoder().encode(text);

describe('argon2id in WebAssembly SIMD', () => {
  it('matches the Argon2 reference implementation test vector (phc-winner-argon2 test.c, argon2id v=0x13)', async () => {
    // "password" / "somesalt", t=2, m=2^16 KiB, p=1, 32-byte tag.
    const tag = await argon2idWasm.hash({ password: utf8('password'), salt: utf8('somesalt'), t: 2, m: 65536, p: 1, length: 32 });
    expect(hex(tag)).toBe('09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7');
  });

  it("matches the server's native argon2id (@node-rs/argon2) with 4 lanes", async () => {
    const tag = await argon2idWasm.hash({ password: new Uint8Array(32).fill(1), salt: new Uint8Array(16).fill(2), t: 3, m: 32, p: 4, length: 32 });
    expect(hex(tag)).toBe(await reference(new Uint8Array(32).fill(1), new Uint8Array(16).fill(2)));
  });

  it('hashes every byte of a non-ASCII password (its UTF-8 length, not its UTF-16 length)', async () => {
    const params = { salt: new Uint8Array(16).fill(3), t: 1, m: 64, p: 1, length: 32 };
    const a = await argon2idWasm.hash({ password: utf8('passé-a'), ...params });
    const b = await argon2idWasm.hash({ password: utf8('passé-b'), ...params });
    expect(hex(a)).not.toBe(hex(b)); // a length cut at 7 UTF-16 units would drop the last byte and make these equal
  });

  it('reports bad parameters with libargon2\u2019s message instead of returning a tag', async () => {
    await expect(argon2idWasm.hash({ password: utf8('x'), salt: new Uint8Array(4), t: 1, m: 64, p: 1, length: 32 })).rejects.toThrow(
      /argon2id failed: Salt is too short/,
    );
  });
});

describe('reserve', () => {
  // Larger than the binary's initial heap (258 pages, 16 MiB), so a derivation has to grow it.
  const input = { password: utf8('password'), salt: utf8('somesalt'), t: 1, m: 32 * 1024, p: 4, length: 32 };

  it('makes room for a derivation: it then neither grows the heap nor changes the tag', async () => {
    const reserved = createArgon2idWasm(loadBinary);
    const small = await reserved.reserve(8);
    const heap = await reserved.reserve(input.m);
    expect(heap).toBeGreaterThan(small);
    expect(heap).toBeGreaterThanOrEqual(input.m * 1024);
    const tag = await reserved.hash(input);
    expect(await reserved.reserve(input.m)).toBe(heap); // nothing grew during the hash

    // Without it, a fresh instance grows its heap during that derivation (what the reserve takes up front).
    const fresh = createArgon2idWasm(loadBinary);
    const before = await fresh.reserve(8);
    expect(hex(await fresh.hash(input))).toBe(hex(tag));
    expect(await fresh.reserve(input.m)).toBeGreaterThan(before);
  });
});

async function reference(password: Uint8Array, salt: Uint8Array): Promise<string> {
  const { hashRaw } = await import('@node-rs/argon2');
  // algorithm 2 = Argon2id (@node-rs/argon2's const enum)
  const tag = await hashRaw(Buffer.from(password), { algorithm: 2, salt: Buffer.from(salt), timeCost: 3, memoryCost: 32, parallelism: 4, outputLen: 32 });
  return tag.toString('hex');
}
