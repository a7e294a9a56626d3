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

/**
 * The highest counter any of `areas` remembers for vault `id`, and whether any of them remembers a vault
 * at all (a version 1 record, which has no id, opened after an upgrade is then an older copy).
 * A missing or unreadable area counts as 0: a mark can only ever raise the bar, never lower it.
 */
export async function readHighWaterMark(areas: readonly VaultStorageArea[], id: string): Promise<{ counter: number; anyVault: boolean }> {
  let counter = 0;
  let anyVault = false;
  for (const marks of await Promise.all(areas.map(readMarks))) {
    counter = Math.max(counter, marks[id] ?? 0);
    anyVault ||= Object.keys(marks).length > 0;
  }
  return { counter, anyVault };
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
