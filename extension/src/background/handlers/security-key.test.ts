import { DOM } from '@latchkey/shared';
import { describe, expect, it } from 'vitest';
import { PAGE_TIMEOUT_MS } from '../handler-context.js';
import { setup, withAccount } from '../service-setup.test-helper.js';

describe('security-key', () => {
  it('presses the page’s own button, telling it the origin it must still have', async () => {
    const { service, injected, clock } = await withAccount();
    expect(await service.handle({ type: 'security-key', tabId: 7 })).toEqual({ ok: true });
    // …and its deadline, a second before the background stops waiting for it: a press the page runs later
    // does nothing, and one made just in time is answered within the wait.
    expect(injected.at(-1)).toMatchObject({
      tabId: 7,
      func: 'pressSecurityKeyButton',
      args: ['https://pypi.org', DOM.webauthnBeginButtonId, clock.now + PAGE_TIMEOUT_MS - 1_000],
    });
  });

  it('passes on the page’s refusal and refuses pages without a web origin', async () => {
    const { service, tabs, setPageAnswer } = await withAccount();
    setPageAnswer({ ok: false, reason: 'no-security-key' });
    expect(await service.handle({ type: 'security-key', tabId: 7 })).toMatchObject({
      ok: false,
      code: 'refused',
      error: expect.stringMatching(/does not offer a security key/),
    });
    tabs.set(7, 'about:blank');
    expect(await service.handle({ type: 'security-key', tabId: 7 })).toMatchObject({ ok: false, code: 'refused' });
  });

  // Any page can have a #webauthn-auth-begin button; a synthetic click there (even while locked) would
  // let the extension start a stranger's ceremony. Only the index origins and the vault's own sites.
  it.each([
    ['locked', true],
    ['unlocked', false],
  ])('refuses a site that is neither an index origin nor an account’s, %s, and injects nothing', async (_state, lock) => {
    const { service, tabs, injected } = await withAccount();
    if (lock) await service.handle({ type: 'lock' });
    for (const url of [
      'https://evil.example/account/two-factor/',
      'https://pypi.org.evil.example/account/two-factor/',
      'http://localhost:8080/account/two-factor/',
    ]) {
      tabs.set(7, url);
      expect(await service.handle({ type: 'tab-context', tabId: 7 })).toMatchObject({ ok: true, hasSecurityKey: false });
      expect(await service.handle({ type: 'security-key', tabId: 7 })).toMatchObject({ ok: false, code: 'refused', error: expect.stringMatching(/only on/) });
    }
    expect(injected.filter((c) => c.func === 'pressSecurityKeyButton')).toEqual([]);
  });

  it('works on an index origin before any vault exists', async () => {
    const { service, injected } = setup('https://test.pypi.org/account/two-factor/?token=t');
    expect(await service.handle({ type: 'tab-context', tabId: 7 })).toMatchObject({ ok: true, hasSecurityKey: true });
    expect(await service.handle({ type: 'security-key', tabId: 7 })).toEqual({ ok: true });
    expect(injected.filter((c) => c.func === 'pressSecurityKeyButton')).toHaveLength(1);
  });

  it('works on a self-hosted account’s exact origin, also while locked; not once the account is deleted', async () => {
    const { service, tabs, id } = await withAccount('http://localhost:8080');
    tabs.set(7, 'http://localhost:8080/account/two-factor/');
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'tab-context', tabId: 7 })).toMatchObject({ ok: true, origin: 'http://localhost:8080', hasSecurityKey: true });
    expect(await service.handle({ type: 'security-key', tabId: 7 })).toEqual({ ok: true });
    tabs.set(7, 'http://localhost:8081/account/two-factor/');
    expect(await service.handle({ type: 'security-key', tabId: 7 })).toMatchObject({ ok: false, code: 'refused' });
    tabs.set(7, 'http://localhost:8080/account/two-factor/');
    await service.handle({ type: 'unlock', passphrase: 'correct horse battery staple' });
    await service.handle({ type: 'delete-account', id });
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'security-key', tabId: 7 })).toMatchObject({ ok: false, code: 'refused' });
  });
});
