import { describe, expect, it } from 'vitest';
import fixtures from './fixtures/node-argon2-hashes.json' with { type: 'json' };
import { createPasswords } from './passwords.js';

const CHEAP = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe('createPasswords', () => {
  const passwords = createPasswords(CHEAP);

  // Hashes written by the former `argon2` (node-argon2) binding before the switch to @node-rs/argon2:
  // every account created before must still log in (its PHC string orders the parameters m,p,t).
  it.each(fixtures.hashes)('verifies a hash the former binding wrote: $hash', async ({ password, hash }) => {
    expect(await passwords.verify(hash, password)).toBe(true);
    expect(await passwords.verify(hash, `${password}x`)).toBe(false);
  });

  it('writes argon2id PHC strings with the configured cost and verifies them', async () => {
    const hash = await passwords.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await passwords.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await passwords.verify(hash, 'Correct horse battery staple')).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await passwords.hash('same')).not.toBe(await passwords.hash('same'));
  });

  it('fails (never throws) for an unknown user or a malformed stored hash', async () => {
    expect(await passwords.verify(null, 'anything')).toBe(false);
    expect(await passwords.verify('not a hash', 'anything')).toBe(false);
    expect(await passwords.verify('$argon2id$v=19$m=1024,t=1,p=1$AAAA$BBBB', 'anything')).toBe(false);
  });
});
