import { argon2idWasm } from './argon2id-wasm-inline.js';
import { utf8 } from './encoding.js';
import { assertKdfParams, KDF_LIMITS, KDF_MEASURE, KEY_BYTES, SALT_BYTES, type KdfParams } from './kdf-params.js';

export * from './kdf-params.js';

/** Derive the 256-bit vault key from a passphrase. The passphrase itself is never stored anywhere. */
export async function deriveVaultKey(passphrase: string, params: KdfParams, salt: Uint8Array): Promise<Uint8Array> {
  assertKdfParams(params);
  if (salt.length !== SALT_BYTES) throw new Error('Invalid KDF salt length.');
  const started = performance.now();
  const password = utf8.encode(passphrase.normalize('NFC'));
  const key = await argon2idWasm({ password, salt, t: params.t, m: params.m, p: params.p, length: KEY_BYTES });
  password.fill(0);
  // A User Timing entry (nothing secret in it): DevTools and the bench see how long the KDF itself took.
  performance.measure(KDF_MEASURE, { start: started });
  return key;
}

let warmedUp: Promise<void> | null = null;

/**
 * Compile and run the KDF's WebAssembly once, at negligible cost, so the first unlock after the service
 * worker (re)starts does not pay for compiling it (measured in headless Chromium: the first derivation
 * in a fresh worker took ~70 ms longer than the next ones). Call when an unlock is likely soon; runs once
 * per context, and never throws (a failure here shows up, with its message, at the real unlock).
 */
export function warmUpKdf(): Promise<void> {
  warmedUp ??= argon2idWasm({ password: utf8.encode('warm-up'), salt: new Uint8Array(SALT_BYTES), t: 1, m: KDF_LIMITS.minM, p: 1, length: KEY_BYTES }).then(
    () => undefined,
    () => {
      warmedUp = null;
    },
  );
  return warmedUp;
}
