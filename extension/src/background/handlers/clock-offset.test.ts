import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../vault/memory-storage.test-helper.js';
import { memoryKeySession } from '../key-session.js';
import { CHEAP, PASS, SECRET } from '../service-setup.test-helper.js';
import type { SiteClock } from '../site-clock-offset.js';
import { createVaultService } from '../vault-service.js';

/**
 * The service with a site clock whose every request is recorded and answered with a date three minutes ahead of
 * this computer's; tab 7 shows `tabUrl`; `access` lists the origins the extension holds host access to.
 */
function setup(tabUrl: string, access: string[] = ['https://pypi.org', 'https://example.org']) {
  const clock = { now: Date.UTC(2026, 11, 1, 12, 0, 0) };
  const requests: string[] = [];
  const tabs = new Map<number, string | undefined>([[7, tabUrl]]);
  const siteClock: SiteClock = {
    area: new MemoryStorage(),
    hasHostAccess: async (origin) => access.includes(origin),
    async fetchDate(url) {
      requests.push(url);
      return new Date(clock.now - 180_000).toUTCString();
    },
  };
  const service = createVaultService({
    storage: new MemoryStorage(),
    session: memoryKeySession(),
    kdf: CHEAP,
    now: () => clock.now,
    tabUrl: async (tabId) => tabs.get(tabId),
    inject: async () => {
      throw new Error('no page functions here');
    },
    scheduleAutoLock: async () => undefined,
    announceLocked: () => undefined,
    removeHostPermission: async () => true,
    siteClock,
  });
  return { service, requests, tabs };
}

async function withAccount(tabUrl: string, origin: string, access?: string[]) {
  const env = setup(tabUrl, access);
  expect(await env.service.handle({ type: 'create', passphrase: PASS })).toMatchObject({ ok: true });
  const added = await env.service.handle({ type: 'add-account', account: { uri: `otpauth://totp/PyPI:alice?secret=${SECRET}&issuer=PyPI`, origin } });
  expect(added).toMatchObject({ ok: true });
  return env;
}

describe('clock-offset', () => {
  it('reads the clock of the tab site when it has an account and access, once for several openings', async () => {
    const { service, requests } = await withAccount('https://pypi.org/account/login/', 'https://pypi.org');
    expect(await service.handle({ type: 'clock-offset', tabId: 7 })).toEqual({ ok: true, origin: 'https://pypi.org', offsetMs: -179_500 });
    expect(await service.handle({ type: 'clock-offset', tabId: 7 })).toMatchObject({ offsetMs: -179_500 });
    expect(requests).toEqual(['https://pypi.org/']);
  });

  it('asks no site without an account on its exact origin, without access to it, or while the vault is locked', async () => {
    // A page the person visits but has no account for, though the extension could reach it.
    const stranger = await withAccount('https://example.org/', 'https://pypi.org');
    expect(await stranger.service.handle({ type: 'clock-offset', tabId: 7 })).toEqual({ ok: true, origin: 'https://example.org', offsetMs: null });
    // Another origin on the same host (a port) is another site.
    const otherPort = await withAccount('https://pypi.org:8443/', 'https://pypi.org');
    expect(await otherPort.service.handle({ type: 'clock-offset', tabId: 7 })).toMatchObject({ offsetMs: null });
    // An account, but no host access (the grant was refused or withdrawn).
    const noAccess = await withAccount('https://example.org/', 'https://example.org', ['https://pypi.org']);
    expect(await noAccess.service.handle({ type: 'clock-offset', tabId: 7 })).toMatchObject({ offsetMs: null });
    // A tab whose address the extension cannot see.
    const hidden = await withAccount('https://pypi.org/', 'https://pypi.org');
    hidden.tabs.set(7, undefined);
    expect(await hidden.service.handle({ type: 'clock-offset', tabId: 7 })).toEqual({ ok: true, origin: null, offsetMs: null });
    // Locked.
    const locked = await withAccount('https://pypi.org/', 'https://pypi.org');
    await locked.service.handle({ type: 'lock' });
    expect(await locked.service.handle({ type: 'clock-offset', tabId: 7 })).toMatchObject({ offsetMs: null });
    for (const env of [stranger, otherPort, noAccess, hidden, locked]) expect(env.requests).toEqual([]);
  });
});
