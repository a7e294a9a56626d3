import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../vault/memory-storage.test-helper.js';
import { forgetSiteClocks } from './forget-site-clocks.js';
import type { SiteClock } from './site-clock-offset.js';

function clockOver(area: SiteClock['area']): SiteClock {
  return { area, hasHostAccess: async () => true, fetchDate: async () => null };
}

describe('forgetSiteClocks', () => {
  it('removes every clock reading and nothing else', async () => {
    const area = new MemoryStorage();
    await area.set({
      'clockOffset:https://pypi.org': { at: 1, offsetMs: 0 },
      'clockOffset:http://127.0.0.1:8080': { at: 1, offsetMs: null },
      vaultKey: 'kept',
    });
    await forgetSiteClocks(clockOver(area));
    expect([...area.data.keys()]).toEqual(['vaultKey']);
  });

  it('never throws: an area that refuses leaves the readings to the browser’s close', async () => {
    const refusing = new MemoryStorage();
    await refusing.set({ 'clockOffset:https://pypi.org': { at: 1, offsetMs: 0 } });
    refusing.failAt = refusing.mutations + 1;
    await expect(forgetSiteClocks(clockOver(refusing))).resolves.toBeUndefined();
  });
});
