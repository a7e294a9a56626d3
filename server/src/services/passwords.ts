import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import type { Argon2Cost } from '../config.js';

/**
 * Password hashing with argon2id (ASVS V2.4.1, V2.4.4) through `@node-rs/argon2`: prebuilt per
 * platform (no compiler, no install script) and run on libuv's thread pool, so hashing never blocks
 * the event loop. It reads and verifies the PHC strings the former `argon2` (node-argon2) binding wrote
 * (`$argon2id$v=19$m=…,p=…,t=…$salt$hash`, pinned by passwords.test.ts against hashes that binding made).
 */
export interface Passwords {
  hash(password: string): Promise<string>;
  /** Constant-work verify. With `hash === null` (unknown user) it verifies against a dummy hash so the
   * response takes as long as for a wrong password (ASVS V2.2.x user-enumeration resistance), then fails. */
  verify(hash: string | null, password: string): Promise<boolean>;
}

/** `Algorithm.Argon2id`: the binding declares its enum `const`, which isolated modules cannot read. */
export const ARGON2ID: Algorithm = 2;

export function createPasswords(cost: Argon2Cost): Passwords {
  const options = { algorithm: ARGON2ID, ...cost };
  let dummyHash: Promise<string> | null = null;
  const dummy = (): Promise<string> => (dummyHash ??= argon2Hash('latchkey dummy password for unknown users', options));
  return {
    hash: (password) => argon2Hash(password, options),
    async verify(hash, password) {
      if (hash === null) {
        await argon2Verify(await dummy(), password).catch(() => false);
        return false;
      }
      try {
        return await argon2Verify(hash, password);
      } catch {
        // A malformed stored hash is a failed login, never a 500.
        return false;
      }
    },
  };
}
