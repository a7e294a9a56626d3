import { describe, expect, it } from 'vitest';
import { VAULT_KEYS } from '../../vault/vault-store.js';
import { PASS, withAccount } from '../service-setup.test-helper.js';

describe('unlock', () => {
  it('refuses a wrong passphrase and unlocks with the right one', async () => {
    const { service } = await withAccount();
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'unlock', passphrase: 'nope nope nope' })).toMatchObject({ ok: false, code: 'wrong-passphrase' });
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'locked' });
    expect(await service.handle({ type: 'unlock', passphrase: PASS })).toMatchObject({
      ok: true,
      state: 'unlocked',
      restoredFromPrevious: false,
      rollback: null,
      accounts: [{ issuer: 'PyPI', label: 'alice', code: expect.stringMatching(/^\d{6}$/) }],
    });
    expect(await service.handle({ type: 'status' })).toMatchObject({ ok: true, state: 'unlocked' });
  });

  it('reports an older copy of the vault put back, then carries on above it', async () => {
    const { service, storage } = await withAccount();
    await service.handle({ type: 'lock' });
    storage.data.set(VAULT_KEYS.primary, storage.data.get(VAULT_KEYS.previous)); // the copy before the account was added
    const unlocked = await service.handle({ type: 'unlock', passphrase: PASS });
    expect(unlocked).toMatchObject({ ok: true, rollback: expect.stringMatching(/older copy .*Check your accounts/) });
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true, accounts: [] });
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'unlock', passphrase: PASS })).toMatchObject({ ok: true, rollback: null });
  });

  it('ends the session when an older copy is swapped in while unlocked, and says why', async () => {
    const { service, storage } = await withAccount();
    storage.data.set(VAULT_KEYS.primary, storage.data.get(VAULT_KEYS.previous));
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: false, code: 'locked', error: expect.stringMatching(/older copy/) });
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'locked' });
  });
});
