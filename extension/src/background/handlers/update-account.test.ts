import { describe, expect, it } from 'vitest';
import { withAccount } from '../service-setup.test-helper.js';

describe('update-account', () => {
  it('renames and moves an account to another origin', async () => {
    const { service, id } = await withAccount();
    expect(await service.handle({ type: 'update-account', id, issuer: 'Test PyPI', label: 'alice2', origin: 'https://test.pypi.org' })).toMatchObject({
      ok: true,
      account: { issuer: 'Test PyPI', label: 'alice2', origin: 'https://test.pypi.org' },
    });
    expect(await service.handle({ type: 'update-account', id: 'missing', issuer: '', label: 'x', origin: 'https://pypi.org' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/no longer exists/),
    });
  });
});
