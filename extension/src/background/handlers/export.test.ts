import { describe, expect, it } from 'vitest';
import { PASS, SECRET, setup, withAccount } from '../service-setup.test-helper.js';

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
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true, backup: { lastAt: null, accountsSince: 1, accounts: 1 } });

    const exported = await service.handle({ type: 'export' });
    expect(exported).toMatchObject({ ok: true, backup: { lastAt: clock.now, accountsSince: 0, accounts: 1 } });
    const backedUpAt = clock.now;

    clock.now += 60_000;
    await service.handle({ type: 'add-account', account: { uri: 'otpauth://totp/PyPI:bob?secret=KRSXG5CTMVRXEZLU&issuer=PyPI', origin: 'https://pypi.org' } });
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'unlock', passphrase: PASS })).toMatchObject({ ok: true });
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true, backup: { lastAt: backedUpAt, accountsSince: 1, accounts: 2 } });
  });

  it('accounts imported from an older backup of another vault count as in no backup of this one (QA)', async () => {
    const older = await withAccount();
    const file = await older.service.handle({ type: 'export' }); // made first, at the earlier time
    if (!file.ok) throw new Error(file.error);

    const target = setup();
    target.clock.now = older.clock.now + 24 * 60 * 60_000;
    await target.service.handle({ type: 'create', passphrase: PASS });
    await target.service.handle({
      type: 'add-account',
      account: { uri: 'otpauth://totp/GitHub:carol?secret=KRSXG5CTMVRXEZLU&issuer=GitHub', origin: 'https://github.com' },
    });
    expect(await target.service.handle({ type: 'export' })).toMatchObject({ ok: true, backup: { accountsSince: 0 } });
    target.clock.now += 60_000;
    expect(await target.service.handle({ type: 'import', text: file.text, passphrase: PASS, origin: 'https://pypi.org' })).toMatchObject({
      ok: true,
      added: 1,
    });
    expect(await target.service.handle({ type: 'codes' })).toMatchObject({ ok: true, backup: { accountsSince: 1 } });
  });
});
