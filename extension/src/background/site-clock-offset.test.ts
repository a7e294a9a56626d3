import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../vault/memory-storage.test-helper.js';
import { CLOCK_READING_TTL_MS, type SiteClock, siteClockOffset } from './site-clock-offset.js';

/** A site whose `Date` header is `dateFor(the time the request arrives)`; every request is recorded. */
function fakeSite(clock: { now: number }, answer: (now: number) => Promise<string | null>) {
  const requests: string[] = [];
  const site: SiteClock = {
    area: new MemoryStorage(),
    hasHostAccess: async () => true,
    async fetchDate(url) {
      requests.push(url);
      clock.now += 100; // the way there
      const date = await answer(clock.now);
      clock.now += 100; // the way back
      return date;
    },
  };
  return { site, requests };
}

const threeMinutesBehind = async (now: number) => new Date(now + 180_000).toUTCString();

describe('siteClockOffset', () => {
  it('reads the site clock from one request to its root and keeps the reading for ten minutes', async () => {
    const clock = { now: Date.UTC(2026, 11, 1, 12, 0, 0) };
    const { site, requests } = fakeSite(clock, threeMinutesBehind);
    const now = () => clock.now;
    // Sent at 12:00:00.000, stamped 12:03:00 (at .100), back at .200: the middle of the site's second (+500 ms)
    // less the round trip's midpoint (12:00:00.100).
    expect(await siteClockOffset(site, 'https://pypi.org', now)).toBe(180_400);
    expect(requests).toEqual(['https://pypi.org/']);
    clock.now += CLOCK_READING_TTL_MS - 1_000;
    expect(await siteClockOffset(site, 'https://pypi.org', now)).toBe(180_400);
    expect(requests).toHaveLength(1);
    // Another origin is another reading.
    await siteClockOffset(site, 'https://test.pypi.org', now);
    expect(requests).toEqual(['https://pypi.org/', 'https://test.pypi.org/']);
    // Once it is ten minutes old, read again.
    clock.now += 1_000;
    await siteClockOffset(site, 'https://pypi.org', now);
    expect(requests).toHaveLength(3);
  });

  it('keeps a failure as long as a reading, and has no reading from a site that fails or sends no date', async () => {
    const clock = { now: Date.UTC(2026, 11, 1, 12, 0, 0) };
    const now = () => clock.now;
    const failing = fakeSite(clock, () => Promise.reject(new TypeError('Failed to fetch')));
    expect(await siteClockOffset(failing.site, 'https://pypi.org', now)).toBeNull();
    expect(await siteClockOffset(failing.site, 'https://pypi.org', now)).toBeNull();
    expect(failing.requests).toHaveLength(1);
    const dateless = fakeSite(clock, async () => null);
    expect(await siteClockOffset(dateless.site, 'https://pypi.org', now)).toBeNull();
  });

  it('reads again when the kept reading is from the future (the clock was set back) or is not a reading', async () => {
    const clock = { now: Date.UTC(2026, 11, 1, 12, 0, 0) };
    const now = () => clock.now;
    const { site, requests } = fakeSite(clock, threeMinutesBehind);
    await siteClockOffset(site, 'https://pypi.org', now);
    clock.now -= 180_000;
    await siteClockOffset(site, 'https://pypi.org', now);
    expect(requests).toHaveLength(2);
    await site.area.set({ 'clockOffset:https://pypi.org': { at: clock.now, offsetMs: 'a lot' } });
    await siteClockOffset(site, 'https://pypi.org', now);
    expect(requests).toHaveLength(3);
  });

  it('sends one request while a reading is under way: a popup opened again before a slow site answers waits for it', async () => {
    // Seen in Firefox ESR: a site that took the whole 5 s timeout got a second HEAD from a popup reopened meanwhile.
    const clock = { now: Date.UTC(2026, 11, 1, 12, 0, 0) };
    const now = () => clock.now;
    const answers = new Map<string, (date: string | null) => void>();
    const { site, requests } = fakeSite(clock, () => new Promise((resolve) => answers.set(requests.at(-1) ?? '', resolve)));
    const first = siteClockOffset(site, 'https://pypi.org', now);
    const second = siteClockOffset(site, 'https://pypi.org', now);
    // Another origin is not held up by this one.
    const other = siteClockOffset(site, 'https://test.pypi.org', now);
    await new Promise((settled) => setTimeout(settled, 0));
    expect(requests).toEqual(['https://pypi.org/', 'https://test.pypi.org/']);
    answers.get('https://test.pypi.org/')?.(null);
    expect(await other).toBeNull();
    answers.get('https://pypi.org/')?.(new Date(clock.now + 180_000).toUTCString());
    expect(await first).not.toBeNull();
    expect(await second).toBe(await first);
    // Once it has ended, the kept reading answers.
    expect(await siteClockOffset(site, 'https://pypi.org', now)).toBe(await first);
    expect(requests).toHaveLength(2);
  });
});
