import argon2 from 'argon2';
import type { Argon2Cost } from '../config.js';

/**
 * Password hashing with argon2id through the native `argon2` binding, which runs on libuv's thread
 * pool, so hashing never blocks the event loop (ASVS V2.4.1, V2.4.4).
 */
export interface Passwords {
  hash(password: string): Promise<string>;
  /** Constant-work verify. With `hash === null` (unknown user) it verifies against a dummy hash so the
   * response takes as long as for a wrong password (ASVS V2.2.x user-enumeration resistance), then fails. */
  verify(hash: string | null, password: string): Promise<boolean>;
}

export function createPasswords(cost: Argon2Cost): Passwords {
  const options = { type: argon2.argon2id, ...cost } as const;
  let dummyHash: Promise<string> | null = null;
  const dummy = (): Promise<string> => (dummyHash ??= argon2.hash('latchkey dummy password for unknown users', options));
  return {
    hash: (password) => argon2.hash(password, options),
    async verify(hash, password) {
      if (hash === null) {
        await argon2.verify(await dummy(), password).catch(() => false);
        return false;
      }
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    },
  };
}
