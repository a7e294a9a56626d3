import { describe, expect, it } from 'vitest';
import { PASS, withAccount } from '../service-setup.test-helper.js';

describe('unlock', () => {
  it('refuses a wrong passphrase and unlocks with the right one', async () => {
    const { service } = await withAccount();
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'unlock', passphrase: 'nope nope nope' })).toMatchObject({ ok: false, code: 'wrong-passphrase' });
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'locked' });
    expect(await service.handle({ type: 'unlock', passphrase: PASS })).toEqual({ ok: true, state: 'unlocked', restoredFromPrevious: false });
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'unlocked' });
  });
});
