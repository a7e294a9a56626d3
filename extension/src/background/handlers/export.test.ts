import { describe, expect, it } from 'vitest';
import { PASS, SECRET, withAccount } from '../service-setup.test-helper.js';

describe('export', () => {
  it('exports an encrypted backup named after the day, without the secrets in clear', async () => {
    const { service } = await withAccount();
    const exported = await service.handle({ type: 'export' });
    if (!exported.ok) throw new Error(exported.error);
    expect(exported.text).not.toContain(SECRET);
    expect(exported.filename).toBe('latchkey-backup-2026-01-01.json');
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'export' })).toMatchObject({ ok: false, code: 'locked' });
  });

  it('notes when, so the list says which accounts no backup holds; the note survives a lock', async () => {
    const { service, clock } = await withAccount();
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true, backup: { lastAt: null, accountsSince: 1 } });

    const exported = await service.handle({ type: 'export' });
    expect(exported).toMatchObject({ ok: true, backup: { lastAt: clock.now, accountsSince: 0 } });
    const backedUpAt = clock.now;

    clock.now += 60_000;
    await service.handle({ type: 'add-account', account: { uri: 'otpauth://totp/PyPI:bob?secret=KRSXG5CTMVRXEZLU&issuer=PyPI', origin: 'https://pypi.org' } });
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'unlock', passphrase: PASS })).toMatchObject({ ok: true });
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true, backup: { lastAt: backedUpAt, accountsSince: 1 } });
  });
});
