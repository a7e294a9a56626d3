/// <reference types="vite/client" />
import { createArgon2idWasm } from './argon2id-wasm.js';
// The binary inlined into the bundle as a data: URL (Vite): nothing fetched from the extension's files.
import wasmUrl from '@phi-ag/argon2/argon2.wasm?url&inline';

/** The vault's argon2id: the SIMD build of libargon2, bundled with the extension. */
export const argon2idWasm = createArgon2idWasm(async () => (await fetch(wasmUrl)).arrayBuffer());
