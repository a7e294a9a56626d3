import { describe, expect, it, vi } from 'vitest';
import { MemoryStorage } from '../../vault/memory-storage.test-helper.js';
import { ACCOUNT_ORIGINS_ITEM } from '../security-key-sites.js';
import { SECRET, withAccount } from '../service-setup.test-helper.js';
import type { SiteClock } from '../site-clock-offset.js';

describe('delete-account', () => {
  it('deletes an account; a second delete says it is gone', async () => {
    const { service, id } = await withAccount();
    expect(await service.handle({ type: 'delete-account', id })).toEqual({ ok: true });
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true, accounts: [] });
    expect(await service.handle({ type: 'delete-account', id })).toMatchObject({ ok: false, error: expect.stringMatching(/no longer exists/) });
  });

  it('gives back the site access of the last account on a site, never an index origin’s', async () => {
    const { service, storage, removedHostPermissions, id } = await withAccount('https://example.test');
    const other = await service.handle({
      type: 'add-account',
      account: { uri: `otpauth://totp/PyPI:bob?secret=${SECRET}&issuer=PyPI`, origin: 'https://pypi.org' },
    });
    if (!other.ok) throw new Error(other.error);

    expect(await service.handle({ type: 'delete-account', id })).toEqual({ ok: true });
    // QA: the grant stayed, so permissions.getAll() and the browser's settings still named the deleted account's site.
    expect(removedHostPermissions).toEqual(['https://example.test/*']);
    expect(storage.data.get(ACCOUNT_ORIGINS_ITEM)).toEqual(['https://pypi.org']);

    // The last account on pypi.org: its access is the manifest's own, never given back.
    expect(await service.handle({ type: 'delete-account', id: other.account.id })).toEqual({ ok: true });
    expect(removedHostPermissions).toEqual(['https://example.test/*']);
    expect(storage.data.get(ACCOUNT_ORIGINS_ITEM)).toEqual([]);
  });

  it('gives back nothing while another account still needs the pattern (another loopback port, the same site)', async () => {
    const { service, storage, removedHostPermissions, id } = await withAccount('http://127.0.0.1:8080');
    const add = async (label: string, origin: string, secret: string) => {
      const added = await service.handle({ type: 'add-account', account: { uri: `otpauth://totp/X:${label}?secret=${secret}&issuer=X`, origin } });
      if (!added.ok) throw new Error(added.error);
      return added.account.id;
    };
    const otherPort = await add('bob', 'http://127.0.0.1:9090', 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ');
    const sameSite = await add('carol', 'http://127.0.0.1:9090', 'KRSXG5CTMVRXEZLU');

    expect(await service.handle({ type: 'delete-account', id })).toEqual({ ok: true });
    expect(await service.handle({ type: 'delete-account', id: otherPort })).toEqual({ ok: true });
    expect(removedHostPermissions).toEqual([]);
    expect(storage.data.get(ACCOUNT_ORIGINS_ITEM)).toEqual(['http://127.0.0.1:9090']);

    // The last one on loopback: now its pattern goes.
    expect(await service.handle({ type: 'delete-account', id: sameSite })).toEqual({ ok: true });
    expect(removedHostPermissions).toEqual(['http://127.0.0.1/*']);
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true, accounts: [] });
  });

  it('forgets the clock reading of a site no remaining account is on, and keeps the others’', async () => {
    const session = new MemoryStorage();
    const siteClock: SiteClock = { area: session, hasHostAccess: async () => true, fetchDate: async () => null };
    const { service, id } = await withAccount('https://example.test', { siteClock });
    const add = async (label: string, origin: string, secret: string) => {
      const added = await service.handle({ type: 'add-account', account: { uri: `otpauth://totp/X:${label}?secret=${secret}&issuer=X`, origin } });
      if (!added.ok) throw new Error(added.error);
      return added.account.id;
    };
    const sameSite = await add('carol', 'https://example.test', 'KRSXG5CTMVRXEZLU');
    const onePort = await add('dave', 'http://127.0.0.1:8080', SECRET);
    await add('erin', 'http://127.0.0.1:9090', SECRET);
    await session.set({
      'clockOffset:https://example.test': { at: 1, offsetMs: 0 },
      'clockOffset:http://127.0.0.1:8080': { at: 1, offsetMs: 0 },
      'clockOffset:http://127.0.0.1:9090': { at: 1, offsetMs: 0 },
      'clockOffset:https://pypi.org': { at: 1, offsetMs: 0 },
      'not a reading': 1,
    });
    const readings = () => [...session.data.keys()].sort();

    // Carol is still on example.test: its reading stays.
    expect(await service.handle({ type: 'delete-account', id })).toEqual({ ok: true });
    expect(readings()).toEqual([
      'clockOffset:http://127.0.0.1:8080',
      'clockOffset:http://127.0.0.1:9090',
      'clockOffset:https://example.test',
      'clockOffset:https://pypi.org',
      'not a reading',
    ]);
    // The last account on example.test. QA: its reading stayed in storage.session until the browser closed.
    expect(await service.handle({ type: 'delete-account', id: sameSite })).toEqual({ ok: true });
    // Readings are per origin, port included: 8080's goes though the loopback grant stays for 9090.
    expect(await service.handle({ type: 'delete-account', id: onePort })).toEqual({ ok: true });
    expect(readings()).toEqual(['clockOffset:http://127.0.0.1:9090', 'clockOffset:https://pypi.org', 'not a reading']);
  });

  it('a reading of the site under way when its last account is deleted is not stored once the site answers', async () => {
    const session = new MemoryStorage();
    const held: Array<(date: string | null) => void> = [];
    const siteClock: SiteClock = { area: session, hasHostAccess: async () => true, fetchDate: () => new Promise((answer) => held.push(answer)) };
    const { service, id } = await withAccount('https://pypi.org', { siteClock });
    const reading = service.handle({ type: 'clock-offset', tabId: 7 });
    await vi.waitFor(() => expect(held).toHaveLength(1));
    expect(await service.handle({ type: 'delete-account', id })).toEqual({ ok: true });
    held[0]?.(new Date(Date.UTC(2026, 0, 1, 12, 3, 0)).toUTCString());
    expect(await reading).toMatchObject({ ok: true, origin: 'https://pypi.org', offsetMs: expect.any(Number) });
    expect([...session.data.keys()]).toEqual([]);
  });
});
