import { TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { VAULT_KEYS } from '../../vault/vault-store.js';
import { PASS, SECRET, setup, withAccount } from '../service-setup.test-helper.js';

describe('status', () => {
  it('is none before a vault exists, unlocked after create, locked after lock', async () => {
    const { service } = setup();
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'none' });
    await service.handle({ type: 'create', passphrase: PASS });
    expect(await service.handle({ type: 'status' })).toMatchObject({ ok: true, state: 'unlocked', accounts: [] });
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'locked' });
  });

  it('unlocked, it carries the list as codes does (current codes, settings, never a secret) and counts as activity', async () => {
    const { service, clock, alarms } = await withAccount();
    const before = alarms.length;
    const status = await service.handle({ type: 'status' });
    const codes = await service.handle({ type: 'codes' });
    expect(status).toMatchObject({
      ok: true,
      state: 'unlocked',
      accounts: [{ label: 'alice', code: new TOTP({ secret: SECRET }).generate({ timestamp: clock.now }) }],
    });
    if (!status.ok || status.state !== 'unlocked' || !codes.ok) throw new Error('expected both answers unlocked');
    expect({ accounts: status.accounts, settings: status.settings }).toEqual({ accounts: codes.accounts, settings: codes.settings });
    expect(JSON.stringify(status)).not.toContain(SECRET);
    expect(alarms.length).toBeGreaterThan(before); // the auto-lock was pushed back
  });

  it('an older copy swapped in while unlocked ends the session, and the answer says why', async () => {
    const { service, storage } = await withAccount();
    storage.data.set(VAULT_KEYS.primary, storage.data.get(VAULT_KEYS.previous));
    expect(await service.handle({ type: 'status' })).toMatchObject({ ok: false, code: 'locked', error: expect.stringMatching(/older copy/) });
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'locked' });
  });
});
