import { describe, expect, it } from 'vitest';
import { SECRET, withAccount } from '../service-setup.test-helper.js';

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
});
