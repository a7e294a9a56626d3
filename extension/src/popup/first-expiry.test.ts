import { describe, expect, it } from 'vitest';
import { firstExpiry } from './first-expiry.js';

describe('firstExpiry', () => {
  it('is the earliest validUntil among the codes (a 30 s code expires before a 60 s one)', () => {
    expect(firstExpiry([{ validUntil: 120_000 }, { validUntil: 90_000 }, { validUntil: 120_000 }])).toBe(90_000);
  });

  it('is null when no code is shown', () => {
    expect(firstExpiry([])).toBeNull();
  });
});
