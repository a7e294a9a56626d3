import { CLOCK_READING_PREFIX, type SiteClock, siteClockGenerations } from './site-clock-offset.js';

/**
 * Drop kept clock readings (site-clock-offset.ts). Each one names a site an account of the vault filled on and
 * when its popup was opened there, so erasing the vault forgets them all (no `origins`) with its records and its
 * account origins, and deleting or moving an account forgets the reading of the site it leaves (`origins`) unless a
 * remaining account is on that exact origin (`keep`: readings are per origin, port included). They used to stay in
 * `storage.session` until the browser closed (QA), and a reading still under way is not stored either. Never
 * throws: the vault write has already happened.
 */
export async function forgetSiteClocks(clock: SiteClock, origins?: readonly unknown[], keep: readonly string[] = []): Promise<void> {
  const gone = origins?.filter((origin): origin is string => typeof origin === 'string' && !keep.includes(origin));
  if (gone?.length === 0) return;
  // First, before any wait: a reading under way (its site has not answered yet) must not store what it gets. The
  // count is per clock, not per origin, so a reading of a kept site under way now is not stored either: its next
  // popup asks that site once more, a cost paid only when an account leaves a site, for one simple rule.
  siteClockGenerations.set(clock, (siteClockGenerations.get(clock) ?? 0) + 1);
  try {
    const items =
      gone === undefined
        ? Object.keys(await clock.area.get(null)).filter((item) => item.startsWith(CLOCK_READING_PREFIX))
        : gone.map((origin) => `${CLOCK_READING_PREFIX}${origin}`);
    if (items.length > 0) await clock.area.remove(items);
  } catch {
    // storage.session refusing a read or a removal: the readings go when the browser closes, as before
  }
}
