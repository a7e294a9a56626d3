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
    // Copied from a document, a PDF or a password manager: any dash, the minus sign, invisible characters.
    ['0123\u20134567\u201489ab\u2011cdef', '0123456789abcdef'],
    ['0123\u22124567\u00a089ab\u202fcdef', '0123456789abcdef'],
    ['\ufeff0123\u200b4567\u00ad89ab\u2060cdef', '0123456789abcdef'],
    // Typed on a full-width (East Asian) keyboard: NFKC makes it ASCII.
    ['\uff10\uff11\uff12\uff13\u3000\uff14\uff15\uff16\uff17\u3000\uff18\uff19\uff41\uff42\u3000\uff43\uff44\uff45\uff46', '0123456789abcdef'],
  ])('normalises %j', (input, expected) => {
    expect(normalizeRecoveryCode(input)).toBe(expected);
  });

  it.each([
    '',
    '0123456789abcde',
    '0123456789abcdef0',
    '0123456789abcdeg',
    'x'.repeat(100),
    // Look-alikes stay refused: Cyrillic "а" and "е" are not the hex letters, and dots are no separator.
    '0123456789\u0430bcd\u0435f',
    '0123.4567.89ab.cdef',
  ])('rejects malformed %j', (input) => {
    expect(normalizeRecoveryCode(input)).toBeNull();
  });

  it('formats in groups of four and round-trips', () => {
    const code = generateRecoveryCode();
    const shown = formatRecoveryCode(code);
    expect(shown).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
    expect(normalizeRecoveryCode(shown)).toBe(code);
  });
});
