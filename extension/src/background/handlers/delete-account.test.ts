import { describe, expect, it } from 'vitest';
import { withAccount } from '../service-setup.test-helper.js';

describe('delete-account', () => {
  it('deletes an account; a second delete says it is gone', async () => {
    const { service, id } = await withAccount();
    expect(await service.handle({ type: 'delete-account', id })).toEqual({ ok: true });
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true, accounts: [] });
    expect(await service.handle({ type: 'delete-account', id })).toMatchObject({ ok: false, error: expect.stringMatching(/no longer exists/) });
  });
});
