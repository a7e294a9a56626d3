import { describe, expect, it } from 'vitest';
import { withAccount } from '../service-setup.test-helper.js';

describe('lock', () => {
  it('forgets the key and cancels the auto-lock alarm', async () => {
    const { service, alarms } = await withAccount();
    expect(await service.handle({ type: 'lock' })).toEqual({ ok: true, state: 'locked' });
    expect(alarms.at(-1)).toBeNull();
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: false, code: 'locked' });
  });

  // Another open page (Firefox's Import tab, a second popup) kept showing the codes, live, until their period
  // ended, up to 300 s after Lock now (QA h3, in Chromium with two pages open).
  it('tells the open pages every time the vault locks: Lock now, the auto-lock, an erase', async () => {
    const { service, announced, clock } = await withAccount();
    expect(announced.locked).toBe(0);
    await service.handle({ type: 'lock' });
    expect(announced.locked).toBe(1);
    await service.handle({ type: 'unlock', passphrase: 'correct horse battery staple' });
    clock.now += 16 * 60_000;
    await service.lockIfDue();
    expect(announced.locked).toBe(2);
    await service.handle({ type: 'erase-vault', confirm: 'erase' });
    expect(announced.locked).toBe(3);
  });
});
