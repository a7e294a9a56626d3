import { describe, expect, it } from 'vitest';
import { withAccount } from '../service-setup.test-helper.js';

describe('save-settings', () => {
  it('validates and applies settings (auto-lock minutes, auto-submit)', async () => {
    const { service, alarms, id, injected } = await withAccount();
    // The reason alone, never "Something went wrong: …".
    expect(await service.handle({ type: 'save-settings', settings: { autoLockMinutes: 0, autoSubmit: false } })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^Auto-lock must be a whole number of minutes/),
    });
    expect(await service.handle({ type: 'save-settings', settings: { autoLockMinutes: 5, autoSubmit: true } })).toMatchObject({
      ok: true,
      settings: { autoLockMinutes: 5, autoSubmit: true },
    });
    expect(alarms.at(-1)).toBe(5);
    await service.handle({ type: 'fill', id, tabId: 7 });
    expect(injected.at(-1)?.args[0]).toMatchObject({ submit: true });
  });
});
