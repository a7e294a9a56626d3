import { describe, expect, it } from 'vitest';
import { createKeySession, type SessionArea } from './key-session.js';

/** A `storage.session` stand-in that keeps values as structured clones, as the browser does. */
function fakeSessionArea(withAccessLevel: boolean) {
  const items = new Map<string, unknown>();
  const accessLevels: string[] = [];
  const area: SessionArea = {
    async get(key) {
      return items.has(key) ? { [key]: structuredClone(items.get(key)) } : {};
    },
    async set(values) {
      for (const [key, value] of Object.entries(values)) items.set(key, structuredClone(value));
    },
    async remove(key) {
      items.delete(key);
    },
    ...(withAccessLevel ? { setAccessLevel: async ({ accessLevel }: { accessLevel: string }) => void accessLevels.push(accessLevel) } : {}),
  };
  return { area, items, accessLevels };
}

const KEY = {
  key: new Uint8Array([1, 2, 3, 250]),
  kdf: { alg: 'argon2id' as const, m: 65536, t: 3, p: 4, salt: 'c2FsdA' },
  autoLockMinutes: 15,
  expiresAt: 2_000,
};

describe('createKeySession', () => {
  it('keeps the key in storage.session (not in memory), restricted to trusted contexts where the API exists', async () => {
    const { area, items, accessLevels } = fakeSessionArea(true);
    const session = await createKeySession(area);
    expect(accessLevels).toEqual(['TRUSTED_CONTEXTS']);
    await session.set(KEY);
    expect(items.size).toBe(1);
    // A second session over the same area is what a restarted background sees: the key is still there.
    const restarted = await createKeySession(area);
    expect(await restarted.get(1_000)).toEqual(KEY);
  });

  it('works where setAccessLevel does not exist (Firefox), forgets the key at expiry and on clear', async () => {
    const { area, items } = fakeSessionArea(false);
    const session = await createKeySession(area);
    await session.set(KEY);
    expect(await session.get(1_999)).toMatchObject({ autoLockMinutes: 15 });
    expect(await session.get(2_000)).toBeNull();
    expect(items.size).toBe(0);
    await session.set(KEY);
    await session.clear();
    expect(await session.get(1_000)).toBeNull();
  });

  it('refuses to start without storage.session rather than keep the key in background memory', async () => {
    await expect(createKeySession(undefined)).rejects.toThrow(/storage.session is missing/);
  });
});
