import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import type { Argon2Cost } from '../config.js';

/**
 * Password hashing with argon2id (ASVS V2.4.1, V2.4.4) through `@node-rs/argon2`: prebuilt per
 * platform (no compiler, no install script) and run on libuv's thread pool, so hashing never blocks
 * the event loop. It reads and verifies the PHC strings the former `argon2` (node-argon2) binding wrote
 * (`$argon2id$v=19$m=…,p=…,t=…$salt$hash`, pinned by passwords.test.ts against hashes that binding made).
 *
 * Both `hash` and `verify` normalise the password first ({@link normalizePassword}): this is the one
 * place it happens, so every form that sets or checks a password gets it.
 */
export interface Passwords {
  hash(password: string): Promise<string>;
  /** Verify against `hash`. With `hash === null` (unknown user) it verifies against a dummy hash so the
   * response takes as long as for a wrong password (ASVS V2.2.x user-enumeration resistance), then fails. */
  verify(hash: string | null, password: string): Promise<PasswordCheck>;
}

/**
 * A verification's answer. `outdated`: the password is right but its stored hash should be made again
 * from it — it was made from the text before normalisation, or with another algorithm or cost than the
 * configured one (ASVS V2.4: hashes follow the current parameters; they upgrade at the next login, the
 * only time the password is known).
 */
export type PasswordCheck = { ok: false } | { ok: true; outdated: boolean };

/** `Algorithm.Argon2id`: the binding declares its enum `const`, which isolated modules cannot read. */
export const ARGON2ID: Algorithm = 2;

/** A code point this runtime's Unicode version has not assigned (general category Cn). */
const UNASSIGNED = /\p{Cn}/u;

/**
 * NIST SP 800-63B 5.1.1.2: when Unicode characters are accepted in memorized secrets, "the verifier
 * SHOULD apply the Normalization Process for Stabilized Strings using either the NFKC or NFKD
 * normalization defined in Section 12.1 of Unicode Standard Annex 15", before hashing. So "é" typed
 * precomposed (U+00E9) or as "e" + U+0301 (macOS, some keyboards and IMEs) is one password. NFKC, not
 * NFKD: the two are equivalent for this purpose, and NFKC keeps ASCII and most text unchanged.
 *
 * The stabilized-strings process refuses a string with unassigned code points, whose normalisation a
 * later Unicode version (a Node.js upgrade) could change; such a password is used as typed. `verify`
 * falls back to the raw form, so that password still logs in after an upgrade assigns its characters.
 */
export function normalizePassword(password: string): string {
  return UNASSIGNED.test(password) ? password : password.normalize('NFKC');
}

/** The binding's two calls: a parameter of {@link createPasswords} so tests can count the argon2 runs. */
export interface Argon2Calls {
  hash: typeof argon2Hash;
  verify: typeof argon2Verify;
}

/** Whether a PHC string was made by argon2id with exactly `cost` (the parameters in any order, as node-argon2 wrote them). */
export function hashHasCost(hash: string, cost: Argon2Cost): boolean {
  const match = /^\$argon2id\$v=19\$([^$]+)\$/.exec(hash);
  if (!match) return false;
  const params = new Map(match[1]!.split(',').map((pair) => pair.split('=') as [string, string]));
  return (
    params.size === 3 &&
    params.get('m') === String(cost.memoryCost) &&
    params.get('t') === String(cost.timeCost) &&
    params.get('p') === String(cost.parallelism)
  );
}

export function createPasswords(cost: Argon2Cost, argon2: Argon2Calls = { hash: argon2Hash, verify: argon2Verify }): Passwords {
  const options = { algorithm: ARGON2ID, ...cost };
  let dummyHash: Promise<string> | null = null;
  const dummy = (): Promise<string> => (dummyHash ??= argon2.hash('latchkey dummy password for unknown users', options));
  const verifyOne = async (hash: string, password: string): Promise<boolean> => {
    try {
      return await argon2.verify(hash, password);
    } catch {
      // A malformed stored hash is a failed login, never a 500.
      return false;
    }
  };
  return {
    hash: (password) => argon2.hash(normalizePassword(password), options),
    async verify(hash, password) {
      const normalized = normalizePassword(password);
      // Input that normalisation changes gets a second try with the raw form (below) when the first
      // fails: the unknown-user path does the same work, so a username is not told apart by timing.
      const tries = normalized === password ? [normalized] : [normalized, password];
      if (hash === null) {
        const stand = await dummy();
        for (const candidate of tries) await verifyOne(stand, candidate);
        return { ok: false };
      }
      // Hashes stored before passwords were normalised were made from the raw input, so a password that
      // normalisation changes may match only raw. Cost: a second argon2 only for input that normalisation
      // changes and whose normalised form failed (a wrong password with, say, a combining accent);
      // ordinary wrong passwords and every right one cost one, as before.
      for (const candidate of tries) {
        if (await verifyOne(hash, candidate)) return { ok: true, outdated: candidate !== normalized || !hashHasCost(hash, cost) };
      }
      return { ok: false };
    },
  };
}
