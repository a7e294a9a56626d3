import { describe, expect, it } from 'vitest';
import { RECOVERY_CODE_COUNT, formatRecoveryCode, generateRecoveryCode, generateRecoveryCodes, normalizeRecoveryCode } from './recovery-code.js';

describe('recovery codes', () => {
  it('are 16 lowercase hex characters (64 bits)', () => {
    for (let i = 0; i < 200; i++) expect(generateRecoveryCode()).toMatch(/^[0-9a-f]{16}$/);
  });

  it('come in distinct sets of 8', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
  });

  it('can never look like a 6-digit TOTP code', () => {
    expect(normalizeRecoveryCode('123456')).toBeNull();
  });

  it.each([
    ['0123456789abcdef', '0123456789abcdef'],
    ['0123 4567 89AB CDEF', '0123456789abcdef'],
    ['0123-4567-89ab-cdef', '0123456789abcdef'],
    ['  0123456789ABCDEF\n', '0123456789abcdef'],
  ])('normalises %j', (input, expected) => {
    expect(normalizeRecoveryCode(input)).toBe(expected);
  });

  it.each(['', '0123456789abcde', '0123456789abcdef0', '0123456789abcdeg', 'x'.repeat(100)])('rejects malformed %j', (input) => {
    expect(normalizeRecoveryCode(input)).toBeNull();
  });

  it('formats in groups of four and round-trips', () => {
    const code = generateRecoveryCode();
    const shown = formatRecoveryCode(code);
    expect(shown).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
    expect(normalizeRecoveryCode(shown)).toBe(code);
  });
});
