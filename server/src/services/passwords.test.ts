import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { describe, expect, it, vi } from 'vitest';
import fixtures from './fixtures/node-argon2-hashes.json' with { type: 'json' };
import { ARGON2ID, createPasswords, hashHasCost } from './passwords.js';

const CHEAP = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe('createPasswords', () => {
  const passwords = createPasswords(CHEAP);

  // Hashes written by the former `argon2` (node-argon2) binding before the switch to @node-rs/argon2:
  // every account created before must still log in (its PHC string orders the parameters m,p,t).
  it.each(fixtures.hashes)('verifies a hash the former binding wrote: $hash', async ({ password, hash }) => {
    expect((await passwords.verify(hash, password)).ok).toBe(true);
    expect((await passwords.verify(hash, `${password}x`)).ok).toBe(false);
  });

  it('writes argon2id PHC strings with the configured cost and verifies them', async () => {
    const hash = await passwords.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect((await passwords.verify(hash, 'correct horse battery staple')).ok).toBe(true);
    expect((await passwords.verify(hash, 'Correct horse battery staple')).ok).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await passwords.hash('same')).not.toBe(await passwords.hash('same'));
  });

  it('fails (never throws) for an unknown user or a malformed stored hash', async () => {
    expect((await passwords.verify(null, 'anything')).ok).toBe(false);
    expect((await passwords.verify('not a hash', 'anything')).ok).toBe(false);
    expect((await passwords.verify('$argon2id$v=19$m=1024,t=1,p=1$AAAA$BBBB', 'anything')).ok).toBe(false);
  });

  it('marks a right password whose hash has another cost or was made raw as outdated, and only then', async () => {
    const current = await passwords.hash('correct horse battery staple');
    expect(await passwords.verify(current, 'correct horse battery staple')).toEqual({ ok: true, outdated: false });
    expect(await passwords.verify(current, 'wrong horse battery staple')).toEqual({ ok: false });
    for (const other of [
      { memoryCost: 2048, timeCost: 1, parallelism: 1 },
      { memoryCost: 1024, timeCost: 2, parallelism: 1 },
      { memoryCost: 1024, timeCost: 1, parallelism: 2 },
    ]) {
      const older = await argon2Hash('correct horse battery staple', { algorithm: ARGON2ID, ...other });
      expect(await passwords.verify(older, 'correct horse battery staple')).toEqual({ ok: true, outdated: true });
      expect(await passwords.verify(older, 'wrong horse battery staple')).toEqual({ ok: false });
    }
    // The former binding's hashes (parameters ordered m,p,t) at its own cost: outdated under CHEAP.
    const [legacy] = fixtures.hashes;
    expect(await passwords.verify(legacy!.hash, legacy!.password)).toEqual({ ok: true, outdated: true });
  });

  it('reads the cost of a PHC string whatever the order of its parameters', () => {
    expect(hashHasCost('$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA', CHEAP)).toBe(true);
    expect(hashHasCost('$argon2id$v=19$m=1024,p=1,t=1$c2FsdHNhbHQ$aGFzaA', CHEAP)).toBe(true);
    expect(hashHasCost('$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA', CHEAP)).toBe(false);
    expect(hashHasCost('$argon2id$v=16$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA', CHEAP)).toBe(false);
    expect(hashHasCost('$argon2id$v=19$m=1024,t=1,p=1,x=2$c2FsdHNhbHQ$aGFzaA', CHEAP)).toBe(false);
    expect(hashHasCost('not a hash', CHEAP)).toBe(false);
  });

  describe('Unicode normalisation (NIST SP 800-63B 5.1.1.2)', () => {
    // "é" precomposed (U+00E9, NFC) and as "e" + combining acute (U+0301, NFD): one password to people.
    const composed = 'Caf\u00e9 au lait, tr\u00e8s chaud';
    const decomposed = 'Cafe\u0301 au lait, tre\u0300s chaud';

    it('sets with one form and verifies with the other, both ways', async () => {
      expect(composed).not.toBe(decomposed);
      expect((await passwords.verify(await passwords.hash(composed), decomposed)).ok).toBe(true);
      expect((await passwords.verify(await passwords.hash(decomposed), composed)).ok).toBe(true);
      expect((await passwords.verify(await passwords.hash(composed), 'Cafe au lait, tres chaud')).ok).toBe(false);
    });

    it('still verifies a hash stored before normalisation from non-normalised input', async () => {
      // What hash() wrote before: argon2 of the raw text (decomposed here, and a compatibility ligature).
      for (const raw of [decomposed, 'of\ufb01ce party 2019 \u00b2']) {
        const old = await argon2Hash(raw, { algorithm: ARGON2ID, ...CHEAP });
        expect(await passwords.verify(old, raw)).toEqual({ ok: true, outdated: true });
        expect((await passwords.verify(old, `${raw}x`)).ok).toBe(false);
      }
    });

    it('costs a second argon2 only for input that normalisation changes and that fails; unknown users cost the same', async () => {
      // The real binding, its `verify` counted.
      const verify = vi.fn(argon2Verify);
      const counted = createPasswords(CHEAP, { hash: argon2Hash, verify });
      const hash = await counted.hash(composed);
      const runs = async (stored: string | null, password: string) => {
        verify.mockClear();
        const { ok } = await counted.verify(stored, password);
        return { ok, runs: verify.mock.calls.length };
      };
      expect(await runs(hash, composed)).toEqual({ ok: true, runs: 1 });
      expect(await runs(hash, decomposed)).toEqual({ ok: true, runs: 1 });
      expect(await runs(hash, 'wrong password, plain')).toEqual({ ok: false, runs: 1 });
      expect(await runs(hash, 'wrong passwo\u0301rd')).toEqual({ ok: false, runs: 2 });
      // The dummy-hash path for unknown users: always false, and as many runs as a known user's failure.
      expect(await runs(null, 'wrong password, plain')).toEqual({ ok: false, runs: 1 });
      expect(await runs(null, 'wrong passwo\u0301rd')).toEqual({ ok: false, runs: 2 });
      expect(await runs(null, composed)).toEqual({ ok: false, runs: 1 });
    });
  });
});
