// The argon2id implementations the vault's KDF is compared with, all in this Node process on the same V8
// as Chromium's (not the same version): the native binding the server uses as the reference, the WebAssembly builds on npm, and
// a pure-JavaScript one. Each must give the same tag as @node-rs/argon2 for the same input, or the bench fails.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hashRaw } from '@node-rs/argon2';
import { ARGON2ID } from '../../../server/src/services/passwords.js';
import { createArgon2idWasm } from '../../../extension/src/vault/argon2id-wasm.js';

const require = createRequire(import.meta.url);

/** Costs as RFC 9106 names them (`m` in KiB). */
export interface Argon2Cost {
  m: number;
  t: number;
  p: number;
}

export interface Argon2Implementation {
  name: string;
  kind: 'native' | 'wasm' | 'js';
  /** What it is, for the table's notes. */
  note: string;
  hash(cost: Argon2Cost, password: Uint8Array, salt: Uint8Array): Promise<Uint8Array>;
}

/** @node-rs/argon2 (RustCrypto's argon2, native): the reference the issue names. */
export const nodeRsArgon2: Argon2Implementation = {
  name: '@node-rs/argon2',
  kind: 'native',
  note: 'Rust (RustCrypto argon2) native addon; it runs the lanes on threads (measured on 2 cores at p = 4: CPU time ≈ 2× wall time, and ≈ the wall time when the process is pinned to one core).',
  hash: async (cost, password, salt) =>
    hashRaw(Buffer.from(password), { algorithm: ARGON2ID, memoryCost: cost.m, timeCost: cost.t, parallelism: cost.p, salt: Buffer.from(salt), outputLen: 32 }),
};

/** Every implementation compared, reference first. Loads the WebAssembly ones (a few ms each). */
export async function loadArgon2Implementations(): Promise<Argon2Implementation[]> {
  const { argon2id: hashWasm } = await import('hash-wasm');
  const setupOpenpgp = (await import('argon2id/lib/setup.js' as string)).default as (
    simd: (imports: WebAssembly.Imports) => Promise<WebAssembly.WebAssemblyInstantiatedSource>,
    fallback: (imports: WebAssembly.Imports) => Promise<WebAssembly.WebAssemblyInstantiatedSource>,
  ) => Promise<(p: { password: Uint8Array; salt: Uint8Array; parallelism: number; passes: number; memorySize: number; tagLength: number }) => Uint8Array>;
  const openpgpDir = require.resolve('argon2id').replace(/index\.js$/, 'dist/');
  const openpgp = await setupOpenpgp(
    async (imports) => WebAssembly.instantiate(await readFile(`${openpgpDir}simd.wasm`), imports),
    async (imports) => WebAssembly.instantiate(await readFile(`${openpgpDir}no-simd.wasm`), imports),
  );
  const { argon2idAsync: noble } = await import('@noble/hashes/argon2.js');
  const argon2Browser = await loadArgon2BrowserSimd();
  // The extension's own code path, over the same binary the build inlines.
  const argon2idWasm = createArgon2idWasm(() => readFile(require.resolve('@phi-ag/argon2/argon2.wasm')));

  return [
    nodeRsArgon2,
    {
      name: 'extension: @phi-ag/argon2 binary (SIMD)',
      kind: 'wasm',
      note: 'What the vault uses now: libargon2 compiled by emscripten with -msimd128 (@phi-ag/argon2 0.5, its binary called by extension/src/vault/argon2id-wasm.ts), one thread.',
      hash: async (cost, password, salt) => argon2idWasm.hash({ password, salt, ...cost, length: 32 }),
    },
    {
      name: 'hash-wasm',
      kind: 'wasm',
      note: 'hash-wasm 4 (the vault’s KDF until now): its own C argon2 in WebAssembly without SIMD, one thread.',
      hash: async (cost, password, salt) =>
        hashWasm({ password, salt, parallelism: cost.p, iterations: cost.t, memorySize: cost.m, hashLength: 32, outputType: 'binary' }),
    },
    {
      name: 'argon2id (openpgp.js)',
      kind: 'wasm',
      note: 'openpgp.js’s argon2id 1.0: the BlaMka core in WebAssembly SIMD, the rest in JavaScript, one thread.',
      hash: async (cost, password, salt) => openpgp({ password, salt, parallelism: cost.p, passes: cost.t, memorySize: cost.m, tagLength: 32 }),
    },
    {
      name: 'argon2-browser (SIMD build)',
      kind: 'wasm',
      note: 'argon2-browser 1.18 (2021, unmaintained since): libargon2 by emscripten, its argon2-simd.wasm, one thread.',
      hash: argon2Browser,
    },
    {
      name: '@noble/hashes argon2id',
      kind: 'js',
      note: '@noble/hashes 2: audited pure JavaScript (no WebAssembly), one thread.',
      hash: async (cost, password, salt) => noble(password, salt, { t: cost.t, m: cost.m, p: cost.p, dkLen: 32 }),
    },
  ];
}

/**
 * argon2-browser's SIMD binary under Node. Its loader picks the non-SIMD file under Node, so the
 * emscripten module is given the SIMD bytes through its `instantiateWasm` hook and libargon2's
 * `argon2_hash` is called directly.
 */
async function loadArgon2BrowserSimd(): Promise<Argon2Implementation['hash']> {
  const dist = require.resolve('argon2-browser/dist/argon2.js').replace(/argon2\.js$/, '');
  const bytes = await readFile(`${dist}argon2-simd.wasm`);
  interface EmscriptenArgon2 {
    HEAPU8: Uint8Array;
    _malloc(size: number): number;
    _free(pointer: number): void;
    _argon2_hash(...args: number[]): number;
  }
  let initialized!: () => void;
  const ready = new Promise<void>((resolve) => (initialized = resolve));
  const scope = globalThis as { self?: unknown };
  scope.self = {
    Module: {
      instantiateWasm(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance) => void) {
        void WebAssembly.instantiate(bytes, imports).then((result) => receive(result.instance));
        return {};
      },
      onRuntimeInitialized: () => initialized(),
    },
  };
  let module: EmscriptenArgon2;
  try {
    module = require(`${dist}argon2.js`) as EmscriptenArgon2;
  } finally {
    delete scope.self;
  }
  await ready;
  return async (cost, password, salt) => {
    const copy = (bytes: Uint8Array) => {
      const pointer = module._malloc(bytes.length);
      module.HEAPU8.set(bytes, pointer);
      return pointer;
    };
    const pwd = copy(password);
    const saltPointer = copy(salt);
    const tag = module._malloc(32);
    try {
      const code = module._argon2_hash(cost.t, cost.m, cost.p, pwd, password.length, saltPointer, salt.length, tag, 32, 0, 0, 2, 0x13);
      if (code !== 0) throw new Error(`argon2-browser: error ${code}`);
      return module.HEAPU8.slice(tag, tag + 32);
    } finally {
      for (const pointer of [pwd, saltPointer, tag]) module._free(pointer);
    }
  };
}
