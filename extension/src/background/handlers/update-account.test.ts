import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../vault/memory-storage.test-helper.js';
import { ACCOUNT_ORIGINS_ITEM } from '../security-key-sites.js';
import { named, SECRET, withAccount } from '../service-setup.test-helper.js';
import type { SiteClock } from '../site-clock-offset.js';

const BOB = { uri: 'otpauth://totp/PyPI:bob?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=PyPI', origin: 'https://pypi.org' };

describe('update-account', () => {
  it('renames and moves an account to another origin', async () => {
    const { service, id } = await withAccount();
    expect(await service.handle({ type: 'update-account', id, issuer: 'Test PyPI', label: 'alice2', origin: 'https://test.pypi.org' })).toMatchObject({
      ok: true,
      account: { issuer: 'Test PyPI', label: 'alice2', origin: 'https://test.pypi.org' },
    });
    expect(await service.handle({ type: 'update-account', id: 'missing', issuer: '', label: 'x', origin: 'https://pypi.org' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/no longer exists/),
    });
  });

  it('refuses to rename an account to the issuer, name and site of another one, saves nothing; its own name still saves', async () => {
    const { service, storage, id } = await withAccount();
    const bob = await service.handle({ type: 'add-account', account: BOB });
    if (!bob.ok) throw new Error(bob.error);
    const writes = storage.mutations;
    for (const [issuer, label] of [
      ['PyPI', 'alice'],
      ['pypi', 'ALICE'],
      ['  PyPI ', ' alice  '],
    ] as const) {
      expect(await service.handle({ type: 'update-account', id: bob.account.id, issuer, label, origin: 'https://pypi.org/account/' })).toEqual({
        ok: false,
        error: `Another account, ${named('PyPI', 'alice')}, already fills on https://pypi.org. Give this one a different name or site; nothing was saved.`,
      });
    }
    expect(storage.mutations).toBe(writes);
    const codes = await service.handle({ type: 'codes' });
    expect(codes.ok && codes.accounts.map((a) => `${a.issuer}: ${a.label}`)).toEqual(['PyPI: alice', 'PyPI: bob']);

    // An account is not "another" to itself: saved unchanged, or with only the case of its name changed.
    expect(await service.handle({ type: 'update-account', id, issuer: 'PyPI', label: 'alice', origin: 'https://pypi.org' })).toMatchObject({ ok: true });
    expect(await service.handle({ type: 'update-account', id, issuer: 'pypi', label: 'Alice', origin: 'https://pypi.org' })).toMatchObject({
      ok: true,
      account: { issuer: 'pypi', label: 'Alice' },
    });
  });

  it('refuses moving an account onto the site where another account has its name', async () => {
    const { service } = await withAccount();
    const bob = await service.handle({ type: 'add-account', account: { ...BOB, uri: BOB.uri.replace('bob', 'alice'), origin: 'https://test.pypi.org' } });
    if (!bob.ok) throw new Error(bob.error);
    expect(await service.handle({ type: 'update-account', id: bob.account.id, issuer: 'PyPI', label: 'alice', origin: 'https://pypi.org' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^Another account, \u2068PyPI\u2069: \u2068alice\u2069, already fills on https:\/\/pypi\.org\./),
    });
  });

  it('moved to another site, gives back the old site’s access only when no remaining account needs its pattern', async () => {
    const { service, storage, removedHostPermissions, id } = await withAccount('https://example.test');
    const bob = await service.handle({
      type: 'add-account',
      account: { uri: `otpauth://totp/X:bob?secret=${SECRET}&issuer=X`, origin: 'http://127.0.0.1:8080' },
    });
    if (!bob.ok) throw new Error(bob.error);
    const move = (which: string, label: string, origin: string) => service.handle({ type: 'update-account', id: which, issuer: 'X', label, origin });

    // A rename on the same site, and a move to another loopback port (the same pattern), give back nothing.
    expect(await move(id, 'alice2', 'https://example.test')).toMatchObject({ ok: true });
    expect(await move(bob.account.id, 'bob', 'http://127.0.0.1:9090')).toMatchObject({ ok: true });
    expect(removedHostPermissions).toEqual([]);

    // Alice leaves example.test, the last account there: its grant goes. QA: it stayed in the browser's settings.
    expect(await move(id, 'alice2', 'http://127.0.0.1:8080')).toMatchObject({ ok: true, account: { origin: 'http://127.0.0.1:8080' } });
    expect(removedHostPermissions).toEqual(['https://example.test/*']);
    // Bob leaves loopback, where alice now is: nothing more goes. The sites' list follows each move.
    expect(await move(bob.account.id, 'bob', 'https://pypi.org')).toMatchObject({ ok: true });
    expect(removedHostPermissions).toEqual(['https://example.test/*']);
    expect(storage.data.get(ACCOUNT_ORIGINS_ITEM)).toEqual(['http://127.0.0.1:8080', 'https://pypi.org']);

    // Leaving an index origin never gives its access back (the manifest's own); the last one off loopback does.
    expect(await move(bob.account.id, 'bob', 'https://example.test')).toMatchObject({ ok: true });
    expect(await move(id, 'alice2', 'https://example.test')).toMatchObject({ ok: true });
    expect(removedHostPermissions).toEqual(['https://example.test/*', 'http://127.0.0.1/*']);
    expect(storage.data.get(ACCOUNT_ORIGINS_ITEM)).toEqual(['https://example.test']);
  });

  it('moved off a site no remaining account is on, forgets that site’s clock reading and keeps the others’', async () => {
    const session = new MemoryStorage();
    const siteClock: SiteClock = { area: session, hasHostAccess: async () => true, fetchDate: async () => null };
    const { service, id } = await withAccount('https://example.test', { siteClock });
    const carol = await service.handle({
      type: 'add-account',
      account: { uri: 'otpauth://totp/X:carol?secret=KRSXG5CTMVRXEZLU&issuer=X', origin: 'https://example.test' },
    });
    if (!carol.ok) throw new Error(carol.error);
    await session.set({ 'clockOffset:https://example.test': { at: 1, offsetMs: 0 }, 'clockOffset:https://pypi.org': { at: 1, offsetMs: 0 } });
    const move = (which: string, label: string, origin: string) => service.handle({ type: 'update-account', id: which, issuer: 'X', label, origin });
    const readings = () => [...session.data.keys()].sort();

    // A rename in place, and a move while carol is still on example.test: both readings stay.
    expect(await move(id, 'alice2', 'https://example.test')).toMatchObject({ ok: true });
    expect(await move(id, 'alice2', 'https://pypi.org')).toMatchObject({ ok: true });
    expect(readings()).toEqual(['clockOffset:https://example.test', 'clockOffset:https://pypi.org']);
    // Carol, the last one there, leaves. QA: example.test's reading stayed in storage.session until the browser closed.
    expect(await move(carol.account.id, 'carol', 'https://test.pypi.org')).toMatchObject({ ok: true });
    expect(readings()).toEqual(['clockOffset:https://pypi.org']);
  });
});
