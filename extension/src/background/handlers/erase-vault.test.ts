import { describe, expect, it, vi } from 'vitest';
import { MemoryStorage } from '../../vault/memory-storage.test-helper.js';
import { HIGH_WATER_KEY } from '../../vault/high-water-mark.js';
import { VAULT_KEYS } from '../../vault/vault-store.js';
import { ACCOUNT_ORIGINS_ITEM } from '../security-key-sites.js';
import { PASS, SECRET, setup, withAccount } from '../service-setup.test-helper.js';
import type { SiteClock } from '../site-clock-offset.js';

describe('erase-vault', () => {
  it('without the typed confirmation it erases nothing and says what to type', async () => {
    const { service, storage } = await withAccount();
    await service.handle({ type: 'lock' });
    const stored = storage.data.get(VAULT_KEYS.primary);
    for (const confirm of ['', 'yes', 'eras', 'erase it']) {
      expect(await service.handle({ type: 'erase-vault', confirm })).toMatchObject({
        ok: false,
        code: 'invalid-input',
        error: expect.stringContaining('"erase"'),
      });
    }
    expect(storage.data.get(VAULT_KEYS.primary)).toEqual(stored);
    expect(await service.handle({ type: 'unlock', passphrase: PASS })).toMatchObject({ ok: true, accounts: [{ label: 'alice' }] });
  });

  it('while locked (the forgotten passphrase), removes both records and the sites the security-key hand-off followed', async () => {
    const { service, storage } = await withAccount('https://example.test');
    await service.handle({
      type: 'add-account',
      account: { uri: 'otpauth://totp/PyPI:bob?secret=KRSXG5CTMVRXEZLU&issuer=PyPI', origin: 'https://example.test' },
    });
    expect(storage.data.has(VAULT_KEYS.previous)).toBe(true);
    expect(storage.data.get(ACCOUNT_ORIGINS_ITEM)).toEqual(['https://example.test']);
    await service.handle({ type: 'lock' });

    expect(await service.handle({ type: 'erase-vault', confirm: '  Erase ' })).toEqual({ ok: true, state: 'none' });
    expect(storage.data.has(VAULT_KEYS.primary)).toBe(false);
    expect(storage.data.has(VAULT_KEYS.previous)).toBe(false);
    expect(storage.data.has(ACCOUNT_ORIGINS_ITEM)).toBe(false);
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'none' });
    expect(await service.handle({ type: 'unlock', passphrase: PASS })).toMatchObject({ ok: false });
  });

  it('while unlocked, ends the session first; a new vault can then be created and is not taken for an older copy', async () => {
    const { service, alarms } = await withAccount();
    expect(await service.handle({ type: 'erase-vault', confirm: 'erase' })).toEqual({ ok: true, state: 'none' });
    expect(alarms.at(-1)).toBeNull();
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: false, code: 'locked' });

    const other = 'a different passphrase 9';
    expect(await service.handle({ type: 'create', passphrase: other })).toEqual({ ok: true, state: 'unlocked' });
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'unlock', passphrase: other })).toMatchObject({ ok: true, rollback: null, restoredFromPrevious: false, accounts: [] });
  });

  it('leaves nothing of the accounts in storage.local or storage.session: not their sites, not the sites’ clock readings', async () => {
    // storage.session: where the clock readings are kept (and, in the browser, the key and a rollback mark).
    const session = new MemoryStorage();
    const siteClock: SiteClock = { area: session, hasHostAccess: async () => true, fetchDate: async () => new Date(0).toUTCString() };
    const { service, storage, tabs } = await withAccount('https://pypi.org', { siteClock });
    await service.handle({
      type: 'add-account',
      account: { uri: 'otpauth://totp/Test:bob?secret=KRSXG5CTMVRXEZLU&issuer=Test', origin: 'https://test.pypi.org' },
    });
    // A popup opened on each account's site read its clock (tab 7).
    await service.handle({ type: 'clock-offset', tabId: 7 });
    tabs.set(7, 'https://test.pypi.org/account/two-factor/');
    await service.handle({ type: 'clock-offset', tabId: 7 });
    expect([...session.data.keys()].sort()).toEqual(['clockOffset:https://pypi.org', 'clockOffset:https://test.pypi.org']);
    session.data.set('not a reading', 1);
    await service.handle({ type: 'lock' });

    expect(await service.handle({ type: 'erase-vault', confirm: 'erase' })).toEqual({ ok: true, state: 'none' });
    // QA: both readings stayed until the browser closed, naming the erased accounts' sites.
    expect([...session.data.keys()]).toEqual(['not a reading']);
    // What stays is the rollback mark (one number for the erased vault's random id; vault-store.ts eraseVault says why).
    expect([...storage.data.keys()]).toEqual([HIGH_WATER_KEY]);
  });

  it('a clock reading under way when the vault is erased is not stored once its site answers', async () => {
    const session = new MemoryStorage();
    /** The site's answers, held back until the test gives them. */
    const held: Array<(date: string | null) => void> = [];
    const siteClock: SiteClock = { area: session, hasHostAccess: async () => true, fetchDate: () => new Promise((answer) => held.push(answer)) };
    const { service } = await withAccount('https://pypi.org', { siteClock });
    // The popup on the account's site asks for its clock; the site has not answered yet (clock-offset is not queued).
    const reading = service.handle({ type: 'clock-offset', tabId: 7 });
    await vi.waitFor(() => expect(held).toHaveLength(1));
    expect(await service.handle({ type: 'erase-vault', confirm: 'erase' })).toEqual({ ok: true, state: 'none' });
    held[0]?.(new Date(Date.UTC(2026, 0, 1, 12, 3, 0)).toUTCString());
    // The popup that asked still gets its answer…
    expect(await reading).toMatchObject({ ok: true, origin: 'https://pypi.org', offsetMs: expect.any(Number) });
    // …but it is not kept. Found in review: it wrote the erased account's site back into storage.session.
    expect([...session.data.keys()]).toEqual([]);
  });

  it('gives back the host access granted for the erased accounts’ sites, each pattern once, never the index’s own', async () => {
    const env = await withAccount('https://pypi.org');
    const { service, storage, removedHostPermissions } = env;
    // Two loopback ports share one grant (site-access-pattern.ts: no port); pypi.org:8443 is under the manifest's own.
    for (const [label, origin] of [
      ['test', 'https://test.pypi.org'],
      ['one', 'http://127.0.0.1:8080'],
      ['two', 'http://127.0.0.1:9090'],
      ['mirror', 'https://pypi.org:8443'],
      ['self', 'https://example.test'],
      ['dev', 'http://localhost:3000'],
    ] as const) {
      expect(await service.handle({ type: 'add-account', account: { uri: `otpauth://totp/X:${label}?secret=${SECRET}&issuer=X`, origin } })).toMatchObject({
        ok: true,
      });
    }
    // A refusal (the browser's, for a pattern its manifest requires) gives back the rest all the same.
    env.refuseHostPermission('http://localhost/*');
    await service.handle({ type: 'lock' });
    const before = storage.mutations;

    expect(await service.handle({ type: 'erase-vault', confirm: 'erase' })).toEqual({ ok: true, state: 'none' });
    // QA: nothing gave them back, so permissions.getAll() and the browser's settings still named the erased sites.
    expect(removedHostPermissions.sort()).toEqual(['http://127.0.0.1/*', 'https://example.test/*']);
    // The records and the sites' list go in one storage call (docs/extension.md).
    expect(storage.mutations - before).toBe(1);
    expect([...storage.data.keys()]).toEqual([HIGH_WATER_KEY]);
  });

  it('with no vault, is a harmless no-op', async () => {
    const { service, removedHostPermissions } = setup();
    expect(await service.handle({ type: 'erase-vault', confirm: 'erase' })).toEqual({ ok: true, state: 'none' });
    expect(removedHostPermissions).toEqual([]);
  });
});
