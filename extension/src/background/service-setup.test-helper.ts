import { expect } from 'vitest';
import type { KdfParams } from '../vault/kdf.js';
import { MemoryStorage } from '../vault/memory-storage.test-helper.js';
import { memoryKeySession } from './key-session.js';
import type { SiteClock } from './site-clock-offset.js';
import { createVaultService } from './vault-service.js';

/** A KDF cost that keeps unit tests fast; the real default is tested in vault/kdf.test.ts. */
export const CHEAP: KdfParams = { alg: 'argon2id', m: 64, t: 1, p: 1 };
export const PASS = 'correct horse battery staple';
export const SECRET = 'JBSWY3DPEHPK3PXP';

/** How the background's messages name an account: issuer and name each in Unicode isolates (FSI … PDI, isolate.ts). */
export const named = (issuer: string, label: string) => `\u2068${issuer}\u2069: \u2068${label}\u2069`;

/**
 * The vault service over in-memory storage and a fake browser: tab 7 shows `tabUrl`, injected
 * page functions are recorded (the probe reports a code field and a security key on the tab's
 * origin; the others answer `setPageAnswer`'s value; those named to `hangPage` never answer, those named to
 * `runPage` answer what its stand-in page does), alarms are
 * recorded, the clock is settable; host permissions given back are recorded (`removedHostPermissions`), and those
 * named to `refuseHostPermission` are refused, as the browser refuses a pattern the manifest requires.
 */
export function setup(tabUrl = 'https://pypi.org/account/two-factor/?token=t', options: { pageTimeoutMs?: number; siteClock?: SiteClock } = {}) {
  const storage = new MemoryStorage();
  const injected: Array<{ tabId: number; func: string; args: unknown[] }> = [];
  const alarms: Array<number | null> = [];
  /** How many times the background told the open pages it locked. */
  const announced = { locked: 0 };
  const clock = { now: Date.UTC(2026, 0, 1, 12, 0, 0) };
  const tabs = new Map<number, string | undefined>([[7, tabUrl]]);
  let pageAnswer: unknown = { ok: true, submitted: false };
  /** Page functions (by name) that never answer, like a page that never finishes loading or never yields. */
  const hanging = new Set<string>();
  /** Page functions (by name) answered by a stand-in page of the test's own (`runPage`), with the arguments the background sent. */
  const pages = new Map<string, (args: unknown[]) => Promise<unknown>>();
  const removedHostPermissions: string[] = [];
  const refusedHostPermissions = new Set<string>();
  const service = createVaultService({
    storage,
    session: memoryKeySession(),
    kdf: CHEAP,
    now: () => clock.now,
    tabUrl: async (tabId) => tabs.get(tabId),
    async inject(tabId, func, args) {
      injected.push({ tabId, func: func.name, args });
      if (hanging.has(func.name)) return new Promise<never>(() => undefined);
      const page = pages.get(func.name);
      if (page) return (await page(args)) as never;
      if (func.name === 'probePage')
        return { topFrame: true, origin: new URL(tabs.get(tabId) ?? '').origin, hasCodeField: true, hasSecurityKey: true } as never;
      return pageAnswer as never;
    },
    scheduleAutoLock: async (minutes) => void alarms.push(minutes),
    announceLocked: () => {
      announced.locked += 1;
    },
    async removeHostPermission(pattern) {
      if (refusedHostPermissions.has(pattern)) throw new Error('You cannot remove required permissions.');
      removedHostPermissions.push(pattern);
      return true;
    },
    ...(options.pageTimeoutMs === undefined ? {} : { pageTimeoutMs: options.pageTimeoutMs }),
    ...(options.siteClock === undefined ? {} : { siteClock: options.siteClock }),
  });
  return {
    service,
    storage,
    injected,
    alarms,
    announced,
    clock,
    tabs,
    removedHostPermissions,
    refuseHostPermission: (pattern: string) => void refusedHostPermissions.add(pattern),
    setPageAnswer: (a: unknown) => (pageAnswer = a),
    hangPage: (funcName: string) => void hanging.add(funcName),
    runPage: (funcName: string, page: (args: unknown[]) => Promise<unknown>) => void pages.set(funcName, page),
  };
}

/** {@link setup} with a vault created under {@link PASS} holding one PyPI account for `origin`. */
export async function withAccount(origin = 'https://pypi.org', options: { pageTimeoutMs?: number; siteClock?: SiteClock } = {}) {
  const env = setup(undefined, options);
  expect(await env.service.handle({ type: 'create', passphrase: PASS })).toMatchObject({ ok: true });
  const added = await env.service.handle({ type: 'add-account', account: { uri: `otpauth://totp/PyPI:alice?secret=${SECRET}&issuer=PyPI`, origin } });
  if (!added.ok) throw new Error(added.error);
  return { ...env, id: added.account.id };
}
