import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../vault/memory-storage.test-helper.js';
import { HIGH_WATER_KEY } from '../../vault/high-water-mark.js';
import { VAULT_KEYS } from '../../vault/vault-store.js';
import { ACCOUNT_ORIGINS_ITEM } from '../security-key-sites.js';
import { PASS, setup, withAccount } from '../service-setup.test-helper.js';
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

  it('with no vault, is a harmless no-op', async () => {
    const { service } = setup();
    expect(await service.handle({ type: 'erase-vault', confirm: 'erase' })).toEqual({ ok: true, state: 'none' });
  });
});
