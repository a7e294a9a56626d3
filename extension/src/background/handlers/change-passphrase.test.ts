import { describe, expect, it } from 'vitest';
import { PASS, withAccount } from '../service-setup.test-helper.js';

describe('change-passphrase', () => {
  it('changes the passphrase, refusing a wrong current one without changing anything', async () => {
    const { service, storage } = await withAccount();
    const before = storage.snapshot();
    expect(await service.handle({ type: 'change-passphrase', current: 'wrong wrong wrong', next: 'brand new passphrase' })).toMatchObject({
      ok: false,
      code: 'wrong-passphrase',
    });
    expect(storage.snapshot()).toBe(before);
    expect(await service.handle({ type: 'change-passphrase', current: PASS, next: 'short' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/at least 10/),
    });
    expect(storage.snapshot()).toBe(before);
    expect(await service.handle({ type: 'change-passphrase', current: PASS, next: 'brand new passphrase' })).toEqual({ ok: true });
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'unlock', passphrase: PASS })).toMatchObject({ ok: false });
    expect(await service.handle({ type: 'unlock', passphrase: 'brand new passphrase' })).toMatchObject({ ok: true });
  });
});
