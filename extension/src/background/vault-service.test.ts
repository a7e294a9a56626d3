import { TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import type { KdfParams } from '../vault/kdf.js';
import { MemoryStorage } from '../vault/memory-storage.test-helper.js';
import { memoryKeySession } from './key-session.js';
import { createVaultService, currentCode } from './vault-service.js';

const CHEAP: KdfParams = { alg: 'argon2id', m: 64, t: 1, p: 1 };
const PASS = 'correct horse battery staple';
const SECRET = 'JBSWY3DPEHPK3PXP';

function setup(tabUrl = 'https://pypi.org/account/two-factor/?token=t') {
  const storage = new MemoryStorage();
  const injected: Array<{ tabId: number; func: string; args: unknown[] }> = [];
  const alarms: Array<number | null> = [];
  const clock = { now: Date.UTC(2026, 0, 1, 12, 0, 0) };
  const tabs = new Map<number, string | undefined>([[7, tabUrl]]);
  let pageAnswer: unknown = { ok: true, submitted: false };
  const service = createVaultService({
    storage,
    session: memoryKeySession(),
    kdf: CHEAP,
    now: () => clock.now,
    tabUrl: async (tabId) => tabs.get(tabId),
    async inject(tabId, func, args) {
      injected.push({ tabId, func: func.name, args });
      if (func.name === 'probePage') return { topFrame: true, origin: new URL(tabs.get(tabId) ?? '').origin, hasCodeField: true, hasSecurityKey: true } as never;
      return pageAnswer as never;
    },
    scheduleAutoLock: async (minutes) => void alarms.push(minutes),
  });
  return { service, storage, injected, alarms, clock, tabs, setPageAnswer: (a: unknown) => (pageAnswer = a) };
}

async function withAccount(origin = 'https://pypi.org') {
  const env = setup();
  expect(await env.service.handle({ type: 'create', passphrase: PASS })).toMatchObject({ ok: true });
  const added = await env.service.handle({ type: 'add-account', account: { uri: `otpauth://totp/PyPI:alice?secret=${SECRET}&issuer=PyPI`, origin } });
  if (!added.ok) throw new Error(added.error);
  return { ...env, id: added.account.id };
}

describe('vault service', () => {
  it('creates, lists current codes (RFC 6238 via otpauth), locks and unlocks', async () => {
    const { service, clock, alarms } = await withAccount();
    const codes = await service.handle({ type: 'codes' });
    const expected = new TOTP({ secret: SECRET }).generate({ timestamp: clock.now });
    expect(codes).toMatchObject({ ok: true, accounts: [{ issuer: 'PyPI', label: 'alice', code: expected, origin: 'https://pypi.org' }] });
    expect(JSON.stringify(codes)).not.toContain(SECRET); // the popup never receives secrets
    expect(alarms.at(-1)).toBe(15);
    expect(await service.handle({ type: 'lock' })).toEqual({ ok: true, state: 'locked' });
    expect(alarms.at(-1)).toBeNull();
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: false, code: 'locked' });
    expect(await service.handle({ type: 'unlock', passphrase: 'nope nope nope' })).toMatchObject({ ok: false, code: 'wrong-passphrase' });
    expect(await service.handle({ type: 'unlock', passphrase: PASS })).toMatchObject({ ok: true });
    expect(await service.handle({ type: 'status' })).toEqual({ ok: true, state: 'unlocked' });
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

  it('refuses weak passphrases when creating', async () => {
    const { service } = setup();
    expect(await service.handle({ type: 'create', passphrase: 'short' })).toMatchObject({ ok: false, error: expect.stringMatching(/at least 10/) });
  });

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

  it('reports the page for the popup and offers the security key only on the same origin', async () => {
    const { service } = await withAccount();
    expect(await service.handle({ type: 'tab-context', tabId: 7 })).toEqual({ ok: true, tabId: 7, origin: 'https://pypi.org', hasCodeField: true, hasSecurityKey: true });
    expect(await service.handle({ type: 'tab-context', tabId: null })).toMatchObject({ ok: true, origin: null, hasSecurityKey: false });
  });

  it('refuses duplicates and bad input with clear messages', async () => {
    const { service } = await withAccount();
    expect(await service.handle({ type: 'add-account', account: { uri: `otpauth://totp/PyPI:alice?secret=${SECRET}`, origin: 'https://pypi.org' } })).toMatchObject({ ok: false, error: expect.stringMatching(/already in Latchkey/) });
    expect(await service.handle({ type: 'add-account', account: { label: 'bob', secret: 'not base32!', origin: 'https://pypi.org' } })).toMatchObject({ ok: false, error: expect.stringMatching(/base32/) });
    expect(await service.handle({ type: 'add-account', account: { label: 'bob', secret: SECRET, origin: 'http://example.com' } })).toMatchObject({ ok: false, error: expect.stringMatching(/https/) });
  });

  it('edits and deletes accounts', async () => {
    const { service, id } = await withAccount();
    expect(await service.handle({ type: 'update-account', id, issuer: 'Test PyPI', label: 'alice2', origin: 'test.pypi.org' })).toMatchObject({ ok: true, account: { issuer: 'Test PyPI', label: 'alice2', origin: 'https://test.pypi.org' } });
    expect(await service.handle({ type: 'delete-account', id })).toEqual({ ok: true });
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true, accounts: [] });
  });

  it('imports otpauth lines: adds new, skips duplicates, reports bad lines, never overwrites', async () => {
    const { service } = await withAccount();
    const text = [
      `otpauth://totp/PyPI:alice?secret=${SECRET}&issuer=PyPI`,
      'otpauth://totp/GitHub:alice?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=GitHub',
      '',
      'otpauth://totp/PyPI:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=PyPI',
      'not a uri',
    ].join('\n');
    const report = await service.handle({ type: 'import', text, origin: 'https://pypi.org' });
    expect(report).toEqual({ ok: true, added: 1, duplicates: ['PyPI: alice'], conflicts: ['PyPI: alice'], errors: [{ line: 5, message: expect.stringMatching(/otpauth/) }] });
    const codes = await service.handle({ type: 'codes' });
    expect(codes.ok && codes.accounts.map((a) => a.issuer)).toEqual(['PyPI', 'GitHub']);
  });

  it('exports an encrypted backup that imports into another vault only with its passphrase', async () => {
    const source = await withAccount();
    const exported = await source.service.handle({ type: 'export' });
    if (!exported.ok) throw new Error(exported.error);
    expect(exported.text).not.toContain(SECRET);
    expect(exported.filename).toBe('latchkey-backup-2026-01-01.json');

    const target = setup();
    await target.service.handle({ type: 'create', passphrase: 'another long passphrase' });
    expect(await target.service.handle({ type: 'import', text: exported.text, origin: 'https://pypi.org' })).toMatchObject({ ok: false, code: 'needs-passphrase' });
    expect(await target.service.handle({ type: 'import', text: exported.text, passphrase: 'wrong wrong wrong', origin: 'https://pypi.org' })).toMatchObject({ ok: false, code: 'needs-passphrase', error: expect.stringMatching(/Wrong passphrase/) });
    expect(await target.service.handle({ type: 'import', text: exported.text, passphrase: PASS, origin: 'https://pypi.org' })).toEqual({ ok: true, added: 1, duplicates: [], conflicts: [], errors: [] });
    expect(await target.service.handle({ type: 'import', text: exported.text, passphrase: PASS, origin: 'https://pypi.org' })).toEqual({ ok: true, added: 0, duplicates: ['PyPI: alice'], conflicts: [], errors: [] });
    const codes = await target.service.handle({ type: 'codes' });
    expect(codes.ok && codes.accounts[0]).toMatchObject({ issuer: 'PyPI', label: 'alice', origin: 'https://pypi.org' });
  });

  it('changes the passphrase, refusing a wrong current one without changing anything', async () => {
    const { service, storage } = await withAccount();
    const before = storage.snapshot();
    expect(await service.handle({ type: 'change-passphrase', current: 'wrong wrong wrong', next: 'brand new passphrase' })).toMatchObject({ ok: false, code: 'wrong-passphrase' });
    expect(storage.snapshot()).toBe(before);
    expect(await service.handle({ type: 'change-passphrase', current: PASS, next: 'brand new passphrase' })).toEqual({ ok: true });
    await service.handle({ type: 'lock' });
    expect(await service.handle({ type: 'unlock', passphrase: PASS })).toMatchObject({ ok: false });
    expect(await service.handle({ type: 'unlock', passphrase: 'brand new passphrase' })).toMatchObject({ ok: true });
  });

  it('validates and applies settings (auto-lock minutes, auto-submit)', async () => {
    const { service, alarms, id, injected } = await withAccount();
    expect(await service.handle({ type: 'save-settings', settings: { autoLockMinutes: 0, autoSubmit: false } })).toMatchObject({ ok: false, error: expect.stringMatching(/minutes/) });
    expect(await service.handle({ type: 'save-settings', settings: { autoLockMinutes: 5, autoSubmit: true } })).toMatchObject({ ok: true, settings: { autoLockMinutes: 5, autoSubmit: true } });
    expect(alarms.at(-1)).toBe(5);
    await service.handle({ type: 'fill', id, tabId: 7 });
    expect(injected.at(-1)?.args[0]).toMatchObject({ submit: true });
  });
});
