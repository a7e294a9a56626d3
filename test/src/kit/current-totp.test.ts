import { describe, expect, it } from 'vitest';
import { currentTotp } from './current-totp.js';

// RFC 6238 Appendix B, SHA-1 rows: the seed is ASCII "12345678901234567890", 8 digits.
const RFC_SEED_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_SHA1_ROWS: Array<[seconds: number, code: string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('currentTotp', () => {
  it.each(RFC_SHA1_ROWS)('matches RFC 6238 Appendix B at T=%i', (seconds, code) => {
    expect(currentTotp(RFC_SEED_BASE32, { at: seconds * 1000, digits: 8 })).toBe(code);
  });

  it('defaults to 6 digits, 30 s steps, now', () => {
    const now = Date.now();
    const code = currentTotp(RFC_SEED_BASE32);
    expect(code).toMatch(/^\d{6}$/);
    // Stays the same within one step; the last 6 digits of the 8-digit code (dynamic truncation mod 10^6).
    const stepStart = Math.floor(now / 30_000) * 30_000;
    expect([currentTotp(RFC_SEED_BASE32, { at: stepStart }), currentTotp(RFC_SEED_BASE32, { at: stepStart + 30_000 })]).toContain(code);
    expect(currentTotp(RFC_SEED_BASE32, { at: 59_000 })).toBe('287082');
  });

  it('accepts lower case, spaces and a Date', () => {
    expect(currentTotp('gezd gnbv gy3t qojq gezd gnbv gy3t qojq', { at: new Date(59_000) })).toBe('287082');
  });

  it('refuses something that is not base32 with a clear message', () => {
    expect(() => currentTotp('not a secret!')).toThrow(/base32/);
    expect(() => currentTotp('')).toThrow(/base32/);
    expect(() => currentTotp(RFC_SEED_BASE32, { at: Number.NaN })).toThrow(/valid time/);
  });
});
