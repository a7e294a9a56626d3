import { describe, expect, it } from 'vitest';
import { currentCode } from '../current-code.js';
import { SECRET, withAccount } from '../service-setup.test-helper.js';

describe('fill', () => {
  it('fills the exact origin, top frame only', async () => {
    const { service, id, injected, clock } = await withAccount();
    expect(await service.handle({ type: 'fill', id, tabId: 7 })).toEqual({ ok: true, submitted: false });
    const fill = injected.find((call) => call.func === 'fillCodeInPage');
    expect(fill).toMatchObject({
      tabId: 7,
      args: [{ code: currentCode({ secret: SECRET, algorithm: 'SHA1', digits: 6, period: 30 }, clock.now), origin: 'https://pypi.org', submit: false }],
    });
  });

  it.each([
    'https://pypi.org.evil.com/account/two-factor/',
    'https://test.pypi.org/account/two-factor/',
    'http://pypi.org/account/two-factor/',
    'https://pypi.org:8443/account/two-factor/',
    'https://pypi.org./account/two-factor/',
    'https://xn--pypi-xxa.org/account/two-factor/',
  ])('refuses to fill on %s and never injects', async (url) => {
    const { service, id, injected, tabs } = await withAccount();
    tabs.set(7, url);
    const result = await service.handle({ type: 'fill', id, tabId: 7 });
    expect(result).toMatchObject({ ok: false, code: 'refused', error: expect.stringMatching(/^Refused: this tab is .* fills only on https:\/\/pypi\.org/) });
    expect(injected.filter((c) => c.func === 'fillCodeInPage')).toEqual([]);
  });

  it('refuses when it cannot see the tab address', async () => {
    const { service, id, tabs, injected } = await withAccount();
    tabs.set(7, undefined);
    expect(await service.handle({ type: 'fill', id, tabId: 7 })).toMatchObject({ ok: false, code: 'refused' });
    expect(injected.filter((c) => c.func === 'fillCodeInPage')).toEqual([]);
  });

  it('passes on the page’s own refusal (a frame) as a clear message', async () => {
    const { service, id, setPageAnswer } = await withAccount();
    setPageAnswer({ ok: false, reason: 'not-top-frame' });
    expect(await service.handle({ type: 'fill', id, tabId: 7 })).toMatchObject({ ok: false, error: expect.stringMatching(/frame/) });
  });
});
