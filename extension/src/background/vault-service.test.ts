import { describe, expect, it } from 'vitest';
import type { Request } from './messages.js';
import { SECRET, withAccount } from './service-setup.test-helper.js';

describe('vault service (the dispatcher)', () => {
  it('answers an unknown request type, including Object.prototype names, or fields that do not fit its type with a refusal; the vault is untouched', async () => {
    const { service, storage } = await withAccount();
    const before = structuredClone([...storage.data]);
    const refused = { ok: false, error: 'Latchkey could not read that request. Close the popup and open it again.' };
    for (const message of [
      { type: 'nope' },
      { type: 'toString' },
      { type: 'constructor' },
      { type: 'unlock', passphrase: 5 },
      { type: 'erase-vault' },
      { type: 'erase-vault', confirm: 'erase', also: 'this' },
      { type: 'delete-account', id: ['x'] },
      { type: 'fill', id: 'x', tabId: '7' },
      null,
      'status',
    ]) {
      expect(await service.handle(message as unknown as Request), JSON.stringify(message)).toEqual(refused);
    }
    expect([...storage.data]).toEqual(before);
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true, accounts: [{ label: 'alice' }] });
  });

  it('the auto-lock alarm locks only a session that has run out: not one an unlock or use started again', async () => {
    const { service, clock, alarms } = await withAccount();
    clock.now += 10 * 60_000;
    // Fired early or behind a request that started the minutes again: still unlocked, armed for the rest.
    await service.lockIfDue();
    expect(alarms.at(-1)).toBe(5); // the 5 minutes left
    expect(await service.handle({ type: 'status' })).toMatchObject({ ok: true, state: 'unlocked' });
    clock.now += 15 * 60_000;
    await service.lockIfDue();
    expect(alarms.at(-1)).toBeNull();
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'locked' });
  });

  it('locks by itself after the idle time even if the alarm never fired', async () => {
    const { service, clock } = await withAccount();
    clock.now += 14 * 60_000;
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true }); // use pushes the lock back
    clock.now += 14 * 60_000;
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true });
    clock.now += 15 * 60_000 + 1;
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'locked' });
  });

  it('runs requests one at a time, so concurrent adds both land', async () => {
    const { service } = await withAccount();
    const uri = (label: string, secret: string) => ({ uri: `otpauth://totp/PyPI:${label}?secret=${secret}&issuer=PyPI`, origin: 'https://pypi.org' });
    const [a, b] = await Promise.all([
      service.handle({ type: 'add-account', account: uri('bob', 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ') }),
      service.handle({ type: 'add-account', account: uri('carol', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ') }),
    ]);
    expect([a.ok, b.ok]).toEqual([true, true]);
    const codes = await service.handle({ type: 'codes' });
    expect(codes.ok && codes.accounts.map((x) => x.label)).toEqual(['alice', 'bob', 'carol']);
  });

  it('the keyboard command fills the one account for the tab’s exact origin, and declines when locked or unmatched', async () => {
    const { service, tabs, injected } = await withAccount();
    expect(await service.fillForTab(7)).toBe(true);
    expect(injected.filter((c) => c.func === 'fillCodeInPage')).toHaveLength(1);
    tabs.set(7, 'https://pypi.org.evil.com/account/two-factor/');
    expect(await service.fillForTab(7)).toBe(false);
    tabs.set(7, 'https://pypi.org/account/two-factor/');
    await service.lock();
    expect(await service.fillForTab(7)).toBe(false);
    expect(injected.filter((c) => c.func === 'fillCodeInPage')).toHaveLength(1);
    expect(JSON.stringify(injected)).not.toContain(SECRET);
  });

  it('when the keyboard command cannot fill, the popup it opens says why — once, and only right after', async () => {
    const { service, tabs, clock, setPageAnswer } = await withAccount();
    const refusalShown = async () => {
      const status = await service.handle({ type: 'status' });
      return status.ok && status.state === 'unlocked' ? status.shortcutRefusal : 'not unlocked';
    };
    // Before: each of these opened the popup with no word of why.
    tabs.set(7, 'https://pypi.org.evil.com/account/two-factor/');
    expect(await service.fillForTab(7)).toBe(false);
    expect(await refusalShown()).toMatch(/No account in your vault fills on this site/);
    expect(await refusalShown()).toBeNull(); // said once
    tabs.set(7, undefined);
    expect(await service.fillForTab(7)).toBe(false);
    expect(await refusalShown()).toMatch(/cannot see this tab’s site/);
    tabs.set(7, 'https://pypi.org/account/two-factor/');
    setPageAnswer({ ok: false, reason: 'no-field' });
    expect(await service.fillForTab(7)).toBe(false);
    expect(await refusalShown()).toBe('This page has no two-factor code field. Open the two-factor step of the login first.');
    // A popup opened much later by hand is not told of an old refusal.
    expect(await service.fillForTab(7)).toBe(false);
    clock.now += 60_000;
    expect(await refusalShown()).toBeNull();
  });

  it('marks a refused link or field as invalid input, so the popup can put the message on that field', async () => {
    const { service } = await withAccount();
    expect(await service.handle({ type: 'add-account', account: { uri: `otpauth://totp/?secret=${SECRET}`, origin: 'https://pypi.org' } })).toEqual({
      ok: false,
      error: 'The link has no account name (the part after otpauth://totp/).',
      code: 'invalid-input',
    });
    expect(await service.handle({ type: 'add-account', account: { label: 'bob', secret: 'not base32!', origin: 'https://pypi.org' } })).toEqual({
      ok: false,
      error: 'The secret must be base32: letters A–Z and digits 2–7 only.',
      code: 'invalid-input',
    });
  });
});
