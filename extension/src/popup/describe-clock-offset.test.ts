import { describe, expect, it } from 'vitest';
import { CLOCK_WARNING_MS, describeClockOffset } from './describe-clock-offset.js';

const ADVICE = 'Codes may be refused: set the clock to update automatically.';

describe('describeClockOffset', () => {
  it('says nothing below one 30 s step, or without a reading', () => {
    expect(describeClockOffset(CLOCK_WARNING_MS - 1, 'https://pypi.org')).toBeNull();
    expect(describeClockOffset(-(CLOCK_WARNING_MS - 1), 'https://pypi.org')).toBeNull();
    expect(describeClockOffset(0, 'https://pypi.org')).toBeNull();
    expect(describeClockOffset(null, 'https://pypi.org')).toBeNull();
    expect(describeClockOffset(120_000, null)).toBeNull();
    expect(describeClockOffset(Number.NaN, 'https://pypi.org')).toBeNull();
  });

  it('warns from 30 s, saying which way, by how much, and against which site', () => {
    expect(describeClockOffset(CLOCK_WARNING_MS, 'https://pypi.org')).toBe(`This computer’s clock is 30 seconds behind pypi.org’s. ${ADVICE}`);
    // The site is ahead: this computer is behind it.
    expect(describeClockOffset(130_400, 'https://pypi.org')).toBe(`This computer’s clock is 2 minutes 10 seconds behind pypi.org’s. ${ADVICE}`);
    expect(describeClockOffset(-180_000, 'https://test.pypi.org')).toBe(`This computer’s clock is 3 minutes ahead of test.pypi.org’s. ${ADVICE}`);
    expect(describeClockOffset(-61_000, 'http://127.0.0.1:8080')).toBe(
      `This computer’s clock is 1 minute 1 second ahead of http://127.0.0.1:8080’s. ${ADVICE}`,
    );
  });

  it('names the two largest units, rounded to the second', () => {
    const off = (ms: number) => describeClockOffset(ms, 'https://pypi.org')?.match(/clock is (.*) behind/)?.[1];
    expect(off(179_600)).toBe('3 minutes');
    expect(off(3_600_000 + 5 * 60_000 + 7_000)).toBe('1 hour 5 minutes');
    expect(off(3_600_000 + 7_000)).toBe('1 hour');
    expect(off(3 * 86_400_000 + 2 * 3_600_000)).toBe('3 days 2 hours');
  });
});
