import { describe, expect, it } from 'vitest';
import { PASS, setup } from '../service-setup.test-helper.js';

describe('status', () => {
  it('is none before a vault exists, unlocked after create, locked after lock', async () => {
    const { service } = setup();
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'none' });
    await service.handle({ type: 'create', passphrase: PASS });
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'unlocked' });
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'locked' });
  });
});
