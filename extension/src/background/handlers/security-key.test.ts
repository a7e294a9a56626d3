import { DOM } from '@latchkey/shared';
import { describe, expect, it } from 'vitest';
import { withAccount } from '../service-setup.test-helper.js';

describe('security-key', () => {
  it('presses the page’s own button, telling it the origin it must still have', async () => {
    const { service, injected } = await withAccount();
    expect(await service.handle({ type: 'security-key', tabId: 7 })).toEqual({ ok: true });
    expect(injected.at(-1)).toMatchObject({ tabId: 7, func: 'pressSecurityKeyButton', args: ['https://pypi.org', DOM.webauthnBeginButtonId] });
  });

  it('passes on the page’s refusal and refuses pages without a web origin', async () => {
    const { service, tabs, setPageAnswer } = await withAccount();
    setPageAnswer({ ok: false, reason: 'no-security-key' });
    expect(await service.handle({ type: 'security-key', tabId: 7 })).toMatchObject({ ok: false, code: 'refused', error: expect.stringMatching(/does not offer a security key/) });
    tabs.set(7, 'about:blank');
    expect(await service.handle({ type: 'security-key', tabId: 7 })).toMatchObject({ ok: false, code: 'refused' });
  });
});
