import { describe, expect, it } from 'vitest';
import { codeValidUntil, currentCode } from './current-code.js';

// RFC 6238 appendix B: the seed "12345678901234567890" (base32 below), SHA-1, 8 digits, 30 s steps.
const RFC_SEED = { secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', algorithm: 'SHA1', digits: 8, period: 30 } as const;

describe('currentCode', () => {
  it('matches the RFC 6238 SHA-1 vectors', () => {
    expect(currentCode(RFC_SEED, 59_000)).toBe('94287082');
    expect(currentCode(RFC_SEED, 1_111_111_109_000)).toBe('07081804');
    expect(currentCode(RFC_SEED, 1_234_567_890_000)).toBe('89005924');
  });
});

describe('codeValidUntil', () => {
  it('is the end of the step holding now, where the next code starts', () => {
    expect(codeValidUntil(30, 59_000)).toBe(60_000);
    expect(codeValidUntil(30, 59_999)).toBe(60_000);
    expect(codeValidUntil(30, 60_000)).toBe(90_000); // a step starts at its own boundary
    expect(codeValidUntil(60, 59_000)).toBe(60_000);
    expect(codeValidUntil(60, 61_000)).toBe(120_000);
    const until = codeValidUntil(30, 1_111_111_109_000);
    expect(currentCode(RFC_SEED, until - 1)).toBe('07081804');
    expect(currentCode(RFC_SEED, until)).not.toBe('07081804');
  });
});
