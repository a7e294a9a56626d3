import { describe, expect, it } from 'vitest';
import { HIGH_WATER_KEY, raiseHighWaterMark, readHighWaterMarks } from './high-water-mark.js';
import { MemoryStorage } from './memory-storage.test-helper.js';
import type { VaultStorageArea } from './vault-store.js';

const broken: VaultStorageArea = {
  get: async () => {
    throw new Error('storage.sync is disabled by policy');
  },
  set: async () => {
    throw new Error('QUOTA_BYTES_PER_ITEM quota exceeded');
  },
  remove: async () => undefined,
};

/** One vault's mark, as the vault store reads it. */
async function markOf(areas: VaultStorageArea[], id: string): Promise<{ counter: number; anyVault: boolean }> {
  const marks = await readHighWaterMarks(areas);
  return { counter: marks.counterOf(id), anyVault: marks.anyVault };
}

describe('the rollback high-water mark', () => {
  it('takes the highest of all areas for the vault id, and only ever goes up', async () => {
    const local = new MemoryStorage();
    const sync = new MemoryStorage();
    await raiseHighWaterMark([local, sync], 'vault-a', 5);
    local.data.set(HIGH_WATER_KEY, { 'vault-a': 2 }); // one area rolled back
    expect(await markOf([local, sync], 'vault-a')).toEqual({ counter: 5, anyVault: true });
    await raiseHighWaterMark([local, sync], 'vault-a', 3);
    expect(sync.data.get(HIGH_WATER_KEY)).toEqual({ 'vault-a': 5 });
    expect(local.data.get(HIGH_WATER_KEY)).toEqual({ 'vault-a': 3 });
  });

  it('keeps vaults apart (two devices sharing storage.sync) and at most 16 of them', async () => {
    const sync = new MemoryStorage();
    for (let i = 0; i < 20; i++) await raiseHighWaterMark([sync], `vault-${i}`, 100 + i);
    expect(await markOf([sync], 'vault-19')).toEqual({ counter: 119, anyVault: true });
    expect(await markOf([sync], 'vault-0')).toEqual({ counter: 0, anyVault: true });
    expect(Object.keys(sync.data.get(HIGH_WATER_KEY) as object)).toHaveLength(16);
  });

  it('treats an area that cannot be read or written as holding no mark, and ignores garbage', async () => {
    const local = new MemoryStorage();
    await raiseHighWaterMark([broken, local], 'vault-a', 4);
    expect(await markOf([broken, local], 'vault-a')).toEqual({ counter: 4, anyVault: true });
    local.data.set(HIGH_WATER_KEY, { 'vault-a': 'nine', other: 1.5 });
    expect(await markOf([local], 'vault-a')).toEqual({ counter: 0, anyVault: false });
    expect(await markOf([], 'vault-a')).toEqual({ counter: 0, anyVault: false });
  });
});
