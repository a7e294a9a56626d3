import { describe, expect, it } from 'vitest';
import { withAccount } from '../service-setup.test-helper.js';

describe('tab-context', () => {
  it('reports the page for the popup and offers the security key only on the same origin', async () => {
    const { service } = await withAccount();
    expect(await service.handle({ type: 'tab-context', tabId: 7 })).toEqual({
      ok: true,
      tabId: 7,
      origin: 'https://pypi.org',
      hasCodeField: true,
      hasSecurityKey: true,
    });
    expect(await service.handle({ type: 'tab-context', tabId: null })).toMatchObject({ ok: true, origin: null, hasSecurityKey: false });
  });
});
