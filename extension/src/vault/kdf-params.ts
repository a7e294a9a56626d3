// The KDF's parameters and limits, without the KDF itself: the bench and the popup can read them without
// loading the WebAssembly.

/** Argon2id cost parameters as stored in the vault header (`m` in KiB, as in RFC 9106). */
export interface KdfParams {
  alg: 'argon2id';
  /** Memory in KiB. */
  m: number;
  /** Passes over memory. */
  t: number;
  /** Lanes. */
  p: number;
}

/** Stored form: cost plus the per-vault random salt (canonical base64). */
export interface KdfHeader extends KdfParams {
  salt: string;
}

/**
 * Default cost: 64 MiB, 3 passes, 4 lanes — RFC 9106 section 4's second recommended option, and
 * well above OWASP's argon2id floor (19 MiB, t=2, p=1). Unlock is measured in the README (The browser extension → Measured).
 */
export const DEFAULT_KDF: KdfParams = Object.freeze({ alg: 'argon2id', m: 64 * 1024, t: 3, p: 4 });

/**
 * Bounds a stored header (vault record or backup file) must respect, checked before any derivation:
 * a crafted file asking for m = 1 GiB, t = 16, p = 16 otherwise costs ~30 s and 1 GiB per try and
 * blocks every other request to the background. 256 MiB and 10 passes leave room above the default
 * (64 MiB, t = 3) for a stronger future default. OWASP ASVS 4.0.3 V1.5.x (untrusted input is bounded).
 */
export const KDF_LIMITS = { minM: 8, maxM: 256 * 1024, minT: 1, maxT: 10, minP: 1, maxP: 16 } as const;

export const SALT_BYTES = 16;
export const KEY_BYTES = 32;

/** Check cost parameters; throws one message naming every bad value and its allowed range. */
export function assertKdfParams(params: KdfParams): void {
  const { m, t, p } = params;
  if (params.alg !== 'argon2id') throw new Error(`Unsupported KDF "${String(params.alg)}".`);
  const minM = Math.max(KDF_LIMITS.minM, 8 * (Number.isInteger(p) ? p : 1));
  const problems: string[] = [];
  if (!Number.isInteger(m) || m < minM || m > KDF_LIMITS.maxM) {
    problems.push(`${Math.round(m / 1024)} MiB of memory (m=${m} KiB; allowed ${minM} KiB to ${KDF_LIMITS.maxM / 1024} MiB)`);
  }
  if (!Number.isInteger(t) || t < KDF_LIMITS.minT || t > KDF_LIMITS.maxT) {
    problems.push(`${t} passes (t=${t}; allowed ${KDF_LIMITS.minT} to ${KDF_LIMITS.maxT})`);
  }
  if (!Number.isInteger(p) || p < KDF_LIMITS.minP || p > KDF_LIMITS.maxP) {
    problems.push(`${p} lanes (p=${p}; allowed ${KDF_LIMITS.minP} to ${KDF_LIMITS.maxP})`);
  }
  if (problems.length > 0) throw new Error(`The key derivation asks for ${problems.join(', ')}.`);
}

/** Name of the User Timing measure each key derivation leaves in its context. */
export const KDF_MEASURE = 'latchkey:kdf';
