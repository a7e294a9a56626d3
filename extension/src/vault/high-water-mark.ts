import type { VaultStorageArea } from './vault-store.js';

/** The key, in every area that keeps one, of the highest record counter written per vault id. */
export const HIGH_WATER_KEY = 'vault.counter';

/** Ids kept per area: enough for a few vaults synced from other devices, small for storage.sync's 8 KB items. */
const MAX_VAULTS = 16;

type Marks = Record<string, number>;

async function readMarks(area: VaultStorageArea): Promise<Marks> {
  try {
    const value = (await area.get([HIGH_WATER_KEY]))[HIGH_WATER_KEY];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, number] => Number.isSafeInteger(entry[1])));
  } catch {
    return {}; // an area that cannot be read (storage.sync turned off by policy) holds no mark
  }
}

/** What the areas remember, merged: the highest counter per vault id. */
export interface HighWaterMarks {
  /** The highest counter any area remembers for vault `id` (0 when none does). */
  counterOf(id: string): number;
  /** Whether any area remembers a vault at all (a version 1 record, which has no id, opened after an upgrade is then an older copy). */
  anyVault: boolean;
}

/**
 * Every area's marks, read at once (not per vault id, so the read can start beside the record's own,
 * before the record says which vault it is). A missing or unreadable area counts as 0: a mark can only
 * ever raise the bar, never lower it.
 */
export async function readHighWaterMarks(areas: readonly VaultStorageArea[]): Promise<HighWaterMarks> {
  const counters = new Map<string, number>();
  for (const marks of await Promise.all(areas.map(readMarks))) {
    for (const [id, counter] of Object.entries(marks)) counters.set(id, Math.max(counters.get(id) ?? 0, counter));
  }
  return { counterOf: (id) => counters.get(id) ?? 0, anyVault: counters.size > 0 };
}

/**
 * Raise the mark for vault `id` to `counter` in every area (never lowers it). Best effort per area: the
 * record is already stored when this runs, and a mark that lags behind only weakens detection by a step.
 */
export async function raiseHighWaterMark(areas: readonly VaultStorageArea[], id: string, counter: number): Promise<void> {
  await Promise.all(
    areas.map(async (area) => {
      try {
        const marks = await readMarks(area);
        if ((marks[id] ?? 0) >= counter) return;
        const others = Object.entries(marks)
          .filter(([other]) => other !== id)
          .sort((a, b) => b[1] - a[1])
          .slice(0, MAX_VAULTS - 1);
        await area.set({ [HIGH_WATER_KEY]: { ...Object.fromEntries(others), [id]: counter } });
      } catch {
        // storage.sync over its write quota, or turned off: the other areas still hold the mark
      }
    }),
  );
}
