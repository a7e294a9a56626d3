import { afterEach, describe, expect, it } from 'vitest';
import { localDate } from './local-date.js';

describe('localDate', () => {
  const zone = process.env.TZ;
  afterEach(() => {
    // Node reads TZ again whenever it is assigned.
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  it('names the day where the browser is, on both sides of UTC', () => {
    const eveningInCalifornia = Date.UTC(2026, 0, 2, 4, 0, 0); // 2026-01-01 20:00 in Los Angeles
    const morningInTokyo = Date.UTC(2026, 0, 1, 22, 30, 0); // 2026-01-02 07:30 in Tokyo
    process.env.TZ = 'America/Los_Angeles';
    expect(localDate(eveningInCalifornia)).toBe('2026-01-01');
    process.env.TZ = 'Asia/Tokyo';
    expect(localDate(morningInTokyo)).toBe('2026-01-02');
    process.env.TZ = 'UTC';
    expect(localDate(eveningInCalifornia)).toBe('2026-01-02');
    expect(localDate(morningInTokyo)).toBe('2026-01-01');
  });
});
