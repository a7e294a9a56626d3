import { describe, expect, it } from 'vitest';
import { isWellFormedRequest, MAX_IMPORT_TEXT } from './request-shape.js';

describe('isWellFormedRequest', () => {
  it('accepts every request as the popup sends it', () => {
    for (const request of [
      { type: 'status' },
      { type: 'create', passphrase: 'correct horse battery staple' },
      { type: 'unlock', passphrase: 'x' },
      { type: 'lock' },
      { type: 'erase-vault', confirm: 'erase' },
      { type: 'codes' },
      { type: 'codes', refresh: true },
      { type: 'tab-context', tabId: null },
      { type: 'tab-context', tabId: 7 },
      { type: 'clock-offset', tabId: 7 },
      { type: 'add-account', account: { uri: 'otpauth://totp/PyPI:a?secret=JBSWY3DPEHPK3PXP', origin: 'https://pypi.org' } },
      { type: 'add-account', account: { issuer: 'PyPI', label: 'a', secret: 'JBSWY3DPEHPK3PXP', origin: 'https://pypi.org' } },
      { type: 'update-account', id: 'a', issuer: 'PyPI', label: 'a', origin: 'https://pypi.org' },
      { type: 'delete-account', id: 'a' },
      { type: 'fill', id: 'a', tabId: 3 },
      { type: 'security-key', tabId: 3 },
      { type: 'save-settings', settings: { autoLockMinutes: 5, autoSubmit: false } },
      { type: 'change-passphrase', current: 'a', next: 'b' },
      { type: 'export' },
      { type: 'import', text: 'otpauth://…', origin: 'https://pypi.org' },
      { type: 'import', text: '{}', passphrase: 'p', origin: 'https://pypi.org' },
      { type: 'import', text: 'x'.repeat(MAX_IMPORT_TEXT), origin: 'https://pypi.org' },
    ]) {
      expect(isWellFormedRequest(request), JSON.stringify(request).slice(0, 80)).toBe(true);
    }
  });

  it('refuses unknown types, missing, mistyped, oversized or extra fields, and non-objects', () => {
    for (const message of [
      null,
      undefined,
      'status',
      ['status'],
      {},
      { type: 7 },
      { type: 'hasOwnProperty' },
      { type: '__proto__' },
      { type: 'status', extra: 1 },
      { type: 'create' },
      { type: 'create', passphrase: 12345678901 },
      { type: 'unlock', passphrase: 'x'.repeat(65_537) },
      { type: 'erase-vault', confirm: true },
      { type: 'codes', refresh: 'yes' },
      { type: 'tab-context' },
      { type: 'tab-context', tabId: -1 },
      { type: 'tab-context', tabId: 1.5 },
      { type: 'clock-offset', tabId: null },
      { type: 'clock-offset', tabId: 7, origin: 'https://pypi.org' },
      { type: 'add-account', account: null },
      { type: 'add-account', account: { uri: 'otpauth://x' } },
      { type: 'add-account', account: { origin: 'https://pypi.org', secret: 5 } },
      { type: 'add-account', account: { origin: 'https://pypi.org', key: 'k' } },
      { type: 'update-account', id: 'a', issuer: 'PyPI', label: 'a' },
      { type: 'fill', id: 'a', tabId: '3' },
      { type: 'security-key' },
      { type: 'save-settings', settings: [] },
      { type: 'change-passphrase', current: 'a' },
      { type: 'import', text: 'x'.repeat(MAX_IMPORT_TEXT + 1), origin: 'https://pypi.org' },
      { type: 'import', text: 'x', origin: 'https://pypi.org', passphrase: null },
    ]) {
      expect(isWellFormedRequest(message), JSON.stringify(message)?.slice(0, 80)).toBe(false);
    }
  });
});
