import { CLOCK_READING_PREFIX, type SiteClock, siteClockGenerations } from './site-clock-offset.js';

/**
 * Drop every kept clock reading (site-clock-offset.ts). Each one names a site an account of the vault filled on and
 * when its popup was opened there, so erasing the vault forgets them with its records and its account origins; they
 * used to stay in `storage.session` until the browser closed (QA), and a reading still under way is not stored
 * either. Never throws: the erase has already happened.
 */
export async function forgetSiteClocks(clock: SiteClock): Promise<void> {
  // First, before any wait: a reading under way (its site has not answered yet) must not store what it gets.
  siteClockGenerations.set(clock, (siteClockGenerations.get(clock) ?? 0) + 1);
  try {
    const items = Object.keys(await clock.area.get(null)).filter((item) => item.startsWith(CLOCK_READING_PREFIX));
    if (items.length > 0) await clock.area.remove(items);
  } catch {
    // storage.session refusing a read or a removal: the readings go when the browser closes, as before
  }
}
