import { describe, expect, it } from 'vitest';
import { ACCOUNT_ORIGINS_ITEM } from '../security-key-sites.js';
import { SECRET, withAccount } from '../service-setup.test-helper.js';

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
});
