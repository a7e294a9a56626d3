import { describe, expect, it } from 'vitest';
import { withAccount } from '../service-setup.test-helper.js';

describe('lock', () => {
  it('forgets the key and cancels the auto-lock alarm', async () => {
    const { service, alarms } = await withAccount();
    expect(await service.handle({ type: 'lock' })).toEqual({ ok: true, state: 'locked' });
    expect(alarms.at(-1)).toBeNull();
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: false, code: 'locked' });
  });
});
