import { describe, expect, it } from 'vitest';
import { VAULT_KEYS } from '../../vault/vault-store.js';
import { ACCOUNT_ORIGINS_ITEM } from '../security-key-sites.js';
import { PASS, setup, withAccount } from '../service-setup.test-helper.js';

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
    expect(storage.data.get(ACCOUNT_ORIGINS_ITEM)).toEqual([]);
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

  it('with no vault, is a harmless no-op', async () => {
    const { service } = setup();
    expect(await service.handle({ type: 'erase-vault', confirm: 'erase' })).toEqual({ ok: true, state: 'none' });
  });
});
