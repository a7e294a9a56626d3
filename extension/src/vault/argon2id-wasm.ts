// The argon2 reference C code (libargon2) compiled to WebAssembly with SIMD by @phi-ag/argon2 (28 KB,
// MIT, no imports). Only the binary is used: its JavaScript wrapper passes the password's UTF-16 length
// as its byte length (a non-ASCII passphrase would be cut short), so this module calls the exports itself.
// Where the bytes come from is the caller's: the extension inlines them (argon2id-wasm-inline.ts), the
// bench reads the file.

/** The exports of the emscripten build that this module uses. */
interface Argon2Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(pointer: number): void;
  argon2_error_message(code: number): number;
  /** libargon2 `argon2_hash`: returns ARGON2_OK (0) or an error code; `encoded` may be NULL. */
  argon2_hash(
    t: number,
    m: number,
    p: number,
    pwd: number,
    pwdLength: number,
    salt: number,
    saltLength: number,
    hash: number,
    hashLength: number,
    encoded: number,
    encodedLength: number,
    type: number,
    version: number,
  ): number;
}

const ARGON2ID = 2;
const VERSION_13 = 0x13;

/** Argon2id inputs; costs as RFC 9106 names them (`m` in KiB). */
export interface Argon2idInput {
  password: Uint8Array;
  salt: Uint8Array;
  /** Passes. */
  t: number;
  /** Memory in KiB. */
  m: number;
  /** Lanes (computed one after another: the build has no threads). */
  p: number;
  /** Tag length in bytes. */
  length: number;
}

/** The vault's argon2id over one WebAssembly instance. */
export interface Argon2idWasm {
  /** The tag for `input`. */
  hash(input: Argon2idInput): Promise<Uint8Array>;
  /**
   * Make room on the WebAssembly heap for a derivation over `m` KiB and touch every page of it once, so
   * that derivation neither grows the memory nor waits for the operating system to map fresh pages
   * (measured: a fresh instance's first 64 MiB derivation is 20–40 ms slower than the next ones, and
   * this takes that time up front). Does nothing when the heap has already held `m` KiB of blocks.
   * Resolves to the heap's size in bytes. The memory stays with the instance (WebAssembly memory never
   * shrinks), as it does after any derivation.
   */
  reserve(m: number): Promise<number>;
}

/** Heap room beyond the blocks themselves: libargon2's and this module's small allocations during a hash. */
const RESERVE_SLACK_BYTES = 256 * 1024;

/**
 * Argon2id (RFC 9106, version 0x13) in WebAssembly SIMD, over the binary `loadBytes` gives (read once,
 * on first use; a failure is retried on the next call). The password and tag are wiped from the
 * WebAssembly heap before their memory is freed (libargon2 itself wipes its memory blocks).
 */
export function createArgon2idWasm(loadBytes: () => Promise<BufferSource>): Argon2idWasm {
  let loaded: Promise<Argon2Exports> | null = null;
  // The most KiB of blocks this instance's heap has held (reserved or hashed): room it still has, as
  // libargon2 frees its blocks back to the allocator and the memory never shrinks.
  let roomFor = 0;
  const load = () =>
    (loaded ??= (async () => {
      const { instance } = await WebAssembly.instantiate(await loadBytes());
      const exports = instance.exports as unknown as Argon2Exports;
      exports._initialize();
      return exports;
    })().catch((error: unknown) => {
      loaded = null;
      throw error;
    }));
  return {
    async hash(input) {
      const tag = hash(await load(), input);
      roomFor = Math.max(roomFor, input.m);
      return tag;
    },
    async reserve(m) {
      const wasm = await load();
      if (m > roomFor) {
        const size = m * 1024 + RESERVE_SLACK_BYTES;
        const pointer = wasm.malloc(size);
        if (pointer === 0) throw new Error('argon2id: out of memory.');
        new Uint8Array(wasm.memory.buffer).fill(0, pointer, pointer + size);
        wasm.free(pointer);
        roomFor = m;
      }
      return wasm.memory.buffer.byteLength;
    },
  };
}

function hash(wasm: Argon2Exports, input: Argon2idInput): Uint8Array {
  const heap = () => new Uint8Array(wasm.memory.buffer); // a new view after any memory growth
  const allocate = (bytes: Uint8Array | number) => {
    const size = typeof bytes === 'number' ? bytes : bytes.length;
    const pointer = wasm.malloc(Math.max(1, size));
    if (pointer === 0) throw new Error('argon2id: out of memory.');
    if (typeof bytes !== 'number') heap().set(bytes, pointer);
    return { pointer, size };
  };
  const buffers: Array<{ pointer: number; size: number }> = [];
  try {
    const password = allocate(input.password);
    buffers.push(password);
    const salt = allocate(input.salt);
    buffers.push(salt);
    const tag = allocate(input.length);
    buffers.push(tag);
    const code = wasm.argon2_hash(
      input.t,
      input.m,
      input.p,
      password.pointer,
      password.size,
      salt.pointer,
      salt.size,
      tag.pointer,
      tag.size,
      0,
      0,
      ARGON2ID,
      VERSION_13,
    );
    if (code !== 0) throw new Error(`argon2id failed: ${cString(heap(), wasm.argon2_error_message(code))}.`);
    return heap().slice(tag.pointer, tag.pointer + tag.size);
  } finally {
    for (const { pointer, size } of buffers) {
      heap().fill(0, pointer, pointer + size);
      wasm.free(pointer);
    }
  }
}

function cString(heap: Uint8Array, pointer: number): string {
  const end = heap.indexOf(0, pointer);
  return new TextDecoder().decode(heap.subarray(pointer, end < 0 ? pointer : end));
}
