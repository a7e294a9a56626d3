import { argon2idWasm } from './argon2id-wasm-inline.js';
import { utf8 } from './encoding.js';
import { assertKdfParams, DEFAULT_KDF, KDF_LIMITS, KDF_MEASURE, KEY_BYTES, SALT_BYTES, type KdfParams } from './kdf-params.js';

export * from './kdf-params.js';

/** Derive the 256-bit vault key from a passphrase. The passphrase itself is never stored anywhere. */
export async function deriveVaultKey(passphrase: string, params: KdfParams, salt: Uint8Array): Promise<Uint8Array> {
  assertKdfParams(params);
  if (salt.length !== SALT_BYTES) throw new Error('Invalid KDF salt length.');
  const started = performance.now();
  const password = utf8.encode(passphrase.normalize('NFC'));
  const key = await argon2idWasm.hash({ password, salt, t: params.t, m: params.m, p: params.p, length: KEY_BYTES });
  password.fill(0);
  // A User Timing entry (nothing secret in it): DevTools and the bench see how long the KDF itself took.
  performance.measure(KDF_MEASURE, { start: started });
  return key;
}

let compiled: Promise<unknown> | null = null;

/**
 * Get the KDF ready for a derivation at `params` while the person types the passphrase: compile and run
 * the WebAssembly once at negligible cost (the first derivation in a fresh service worker took ~70 ms
 * longer in headless Chromium without it), then make room for `params.m` KiB on its heap and touch it
 * (the first 64 MiB derivation in a fresh worker paid another 20–40 ms for growing the memory and mapping
 * its pages). Compiles once per context; the room is kept (argon2id-wasm.ts `reserve`). Parameters
 * outside the limits are not prepared for (the unlock refuses them). Never throws: a failure here shows
 * up, with its message, at the real unlock.
 */
export async function warmUpKdf(params: KdfParams = DEFAULT_KDF): Promise<void> {
  try {
    compiled ??= argon2idWasm
      .hash({ password: utf8.encode('warm-up'), salt: new Uint8Array(SALT_BYTES), t: 1, m: KDF_LIMITS.minM, p: 1, length: KEY_BYTES })
      .catch((error: unknown) => {
        compiled = null;
        throw error;
      });
    await compiled;
    assertKdfParams(params);
    await argon2idWasm.reserve(params.m);
  } catch {
    // Reported by the derivation itself.
  }
}
