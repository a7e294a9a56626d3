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

/**
 * Argon2id (RFC 9106, version 0x13) in WebAssembly SIMD, over the binary `loadBytes` gives (read once,
 * on first use; a failure is retried on the next call). The password and tag are wiped from the
 * WebAssembly heap before their memory is freed (libargon2 itself wipes its memory blocks).
 */
export function createArgon2idWasm(loadBytes: () => Promise<BufferSource>): (input: Argon2idInput) => Promise<Uint8Array> {
  let loaded: Promise<Argon2Exports> | null = null;
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
  return async (input) => hash(await load(), input);
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
