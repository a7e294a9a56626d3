import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { testConfig } from '../config.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { startServer, type RunningServer } from '../main.js';
import { TestBrowser } from '../testing/browser.js';

/** Every POST route of the contract (the session-ending ones last: they end the session the others need). */
const POST_ROUTES = [
  ROUTES.register,
  ROUTES.login,
  `${ROUTES.twoFactor}?token=x`,
  `${ROUTES.recoveryCode}?token=x`,
  ROUTES.totpProvision,
  ROUTES.totpProvisionRemove,
  ROUTES.recoveryCodesGenerate,
  ROUTES.recoveryCodesVerify,
  ROUTES.changePassword,
  ROUTES.requestPasswordReset,
  `${ROUTES.resetPassword}?token=x`,
  ROUTES.resetPassword,
  '/manage/account/forget-devices',
  ROUTES.webauthnProvisionOptions,
  ROUTES.webauthnProvisionValidate,
  ROUTES.webauthnProvisionDelete,
  `${ROUTES.webauthnAuthenticateOptions}?token=x`,
  `${ROUTES.webauthnAuthenticateValidate}?token=x`,
  ROUTES.revokeSessions,
  ROUTES.logout,
];

const HOSTILE_BODIES: [contentType: string, body: string][] = [
  ['application/json', '{"username":{"a":1},"password":[1,2],"totp_value":null,"recovery_code_value":123,"credential":"x","label":{}}'],
  ['application/json', '[]'],
  ['application/json', 'null'],
  ['application/json', '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'],
  ['application/json', '{"username":'],
  ['application/x-www-form-urlencoded', 'username=%ZZ&password=%&totp_value=%E0%A4%A'],
  ['application/x-www-form-urlencoded', 'a[b]=1&totp_value[]=1&recovery_code_value=1&recovery_code_value=2'],
  ['application/x-www-form-urlencoded', `password=${'x'.repeat(15_000)}`],
  ['text/plain', 'username=x'],
  ['application/octet-stream', '\u0000\u0001\u0002'],
  ['application/json; charset=latin1', '{}'],
];

describe('hostile input on every POST route', () => {
  let server: RunningServer;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabaseUrl('sqlite');
    drop = database.drop;
    server = await startServer(testConfig({ databaseUrl: database.databaseUrl }));
  });
  afterAll(async () => {
    await server?.close();
    await drop?.();
  });

  it('answers 4xx (or a plain success) with a message, never 500 and never a stack trace', async () => {
    const b = new TestBrowser(server.url);
    await b.get(ROUTES.register);
    const password = 'correct horse battery staple';
    await b.post(ROUTES.register, {
      [FIELDS.username]: 'hostile',
      [FIELDS.email]: 'h@example.org',
      [FIELDS.newPassword]: password,
      [FIELDS.passwordConfirm]: password,
    });
    await b.get(ROUTES.manageAccount);
    for (const route of POST_ROUTES) {
      for (const [contentType, body] of HOSTILE_BODIES) {
        const response = await b.raw('POST', route, body, { 'content-type': contentType, 'x-csrf-token': b.csrfToken });
        const what = `${route} ${contentType} ${body.slice(0, 30)}`;
        expect(response.status, what).toBeLessThan(500);
        expect(response.text, what).not.toMatch(/at \S+ \(|node_modules|Error:/);
        if (response.status >= 400) {
          const isJson = response.headers.get('content-type')?.includes('json');
          if (isJson) expect((JSON.parse(response.text) as { fail: { errors: string[] } }).fail.errors[0], what).toMatch(/\w/);
          else expect(response.text, what).toMatch(/role="alert"/);
        }
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    for (const path of [
      `${ROUTES.resetPassword}?token=%`,
      `${ROUTES.resetPassword}?token[a]=1`,
      `${ROUTES.resetPassword}?token=${'A'.repeat(5000)}.${'B'.repeat(43)}`,
      `${ROUTES.resetPassword}?token=e30.${'A'.repeat(43)}`,
      `${ROUTES.recoveryCodesShow}?show=%00`,
      `${ROUTES.recoveryCodesShow}?show[]=1`,
      ROUTES.recoveryCodesVerify,
      ROUTES.changePassword,
      ROUTES.requestPasswordReset,
      `${ROUTES.twoFactor}?token=%`,
      `${ROUTES.login}?next=%`,
      '/%',
      `${ROUTES.manageAccount}?x=%E0%A4%A`,
      '/static/..%2f..%2fpackage.json',
    ]) {
      const response = await b.get(path);
      expect(response.status, path).toBeLessThan(500);
    }
  });
});
