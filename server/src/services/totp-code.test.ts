import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { generateTotpCode, generateTotpSecret, matchTotpStep, normalizeTotpCode, totpStepAt } from './totp-code.js';

// RFC 6238 Appendix B, SHA-1 rows: seed "12345678901234567890" (ASCII), 8 digits, 30 s steps.
const RFC_SEED = Secret.fromLatin1('12345678901234567890');
const RFC6238_SHA1 = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
] as const;

describe('TOTP (RFC 6238)', () => {
  it.each(RFC6238_SHA1)('Appendix B SHA-1 at T=%i is %s', (seconds, expected) => {
    expect(generateTotpCode({ secret: RFC_SEED, timestampMs: seconds * 1000, digits: 8 })).toBe(expected);
  });

  it('matches the current step and one step either side, nothing further', () => {
    const secret = generateTotpSecret();
    const now = 1_700_000_000_000;
    const step = totpStepAt(now);
    for (const offset of [-1, 0, 1]) {
      const code = generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: now + offset * 30_000 });
      expect(matchTotpStep(secret, code, now)).toBe(step + offset);
    }
    for (const offset of [-3, -2, 2, 3]) {
      const code = generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: now + offset * 30_000 });
      // A far-off code may collide with a valid one by chance (1 in 10^6 per step); not for these fixed inputs.
      expect(matchTotpStep(secret, code, now)).toBeNull();
    }
  });

  it('generates 160-bit secrets', () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(Secret.fromBase32(secret).bytes).toHaveLength(20);
    expect(generateTotpSecret()).not.toBe(secret);
  });

  it.each([
    ['123456', '123456'],
    [' 123 456 ', '123456'],
    ['12345', null],
    ['1234567', null],
    ['12345a', null],
    ['', null],
  ])('normalizes %j to %j', (input, expected) => {
    expect(normalizeTotpCode(input)).toBe(expected);
  });
});
