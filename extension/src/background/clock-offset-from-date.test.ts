import { describe, expect, it } from 'vitest';
import { clockOffsetFromDate, MAX_ROUND_TRIP_MS } from './clock-offset-from-date.js';

const NOON = Date.UTC(2026, 11, 1, 12, 0, 0);
const NOON_HEADER = 'Tue, 01 Dec 2026 12:00:00 GMT';

describe('clockOffsetFromDate', () => {
  it('is the server time (middle of its second) less the midpoint of the round trip', () => {
    // Sent at 11:59:59.800, answered at 12:00:00.200: midpoint 12:00:00.000; the server said 12:00:00 (.0 to .999).
    expect(clockOffsetFromDate(NOON_HEADER, NOON - 200, NOON + 200)).toBe(500);
  });

  it('is positive when this computer is behind the site, negative when ahead', () => {
    // This computer reads 11:57:00 when the site reads 12:00:00: three minutes behind.
    expect(clockOffsetFromDate(NOON_HEADER, NOON - 180_000 - 100, NOON - 180_000 + 100)).toBe(180_500);
    expect(clockOffsetFromDate(NOON_HEADER, NOON + 130_000, NOON + 130_000)).toBe(-129_500);
  });

  it('gives no reading without a date, from a value not in the HTTP-date form, or from an unusable round trip', () => {
    expect(clockOffsetFromDate(null, NOON, NOON)).toBeNull();
    expect(clockOffsetFromDate('yesterday', NOON, NOON)).toBeNull();
    expect(clockOffsetFromDate('2026-12-01T12:00:00Z', NOON, NOON)).toBeNull();
    expect(clockOffsetFromDate('Tue, 01 Dec 2026 12:00:00 +0100', NOON, NOON)).toBeNull();
    expect(clockOffsetFromDate(NOON_HEADER, NOON, NOON + MAX_ROUND_TRIP_MS + 1)).toBeNull();
    // The clock was set back while the request was out.
    expect(clockOffsetFromDate(NOON_HEADER, NOON, NOON - 1)).toBeNull();
  });
});
