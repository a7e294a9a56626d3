import { clockOffsetFromDate } from './clock-offset-from-date.js';

/** How long one reading of a site's clock stands: opening the popup again within it sends nothing. */
export const CLOCK_READING_TTL_MS = 10 * 60_000;

/** The browser capabilities a clock reading needs (background/index.ts gives the real ones; tests, fakes). */
export interface SiteClock {
  /**
   * Where readings are kept between popups: `storage.session` (memory only, gone when the browser closes). `get(null)`
   * is every item, as in the browser's storage areas (forget-site-clocks.ts).
   */
  area: {
    get(keys: string[] | null): Promise<Record<string, unknown>>;
    set(items: Record<string, unknown>): Promise<void>;
    remove(keys: string[]): Promise<void>;
  };
  /** Whether the extension holds host access to the origin (never prompts). */
  hasHostAccess(origin: string): Promise<boolean>;
  /** The `Date` header of one cookieless request to `url` (fetch-site-date.ts); null or a rejection: no reading. */
  fetchDate(url: string): Promise<string | null>;
}

/** A reading as kept: when it was taken (this computer's clock) and the offset, or null when it failed. */
interface Reading {
  at: number;
  offsetMs: number | null;
}

/** The start of every reading's item name; the origin follows. */
export const CLOCK_READING_PREFIX = 'clockOffset:';

const itemFor = (origin: string) => `${CLOCK_READING_PREFIX}${origin}`;

/**
 * Readings under way, per clock and origin: a popup opened again while a slow site has not answered (up to the
 * 5 s timeout) waits for the same request rather than sending another. Memory only: a background that was
 * stopped has lost its request too.
 */
const underWay = new WeakMap<SiteClock, Map<string, Promise<number | null>>>();

/**
 * How many times each clock's readings were forgotten (forget-site-clocks.ts: the vault erased, or the last account
 * on a site deleted or moved). A reading stores its result only if this has not moved since it began: `clock-offset`
 * is not queued behind the erase, so a site that answered after it wrote the erased vault's site back into
 * `storage.session` (found in review).
 */
export const siteClockGenerations = new WeakMap<SiteClock, number>();

function isReading(value: unknown): value is Reading {
  if (typeof value !== 'object' || value === null) return false;
  const { at, offsetMs } = value as Record<string, unknown>;
  return Number.isFinite(at) && (offsetMs === null || Number.isFinite(offsetMs));
}

/**
 * How far `origin`'s clock is ahead of this computer's (ms), read from one request to the site at most every
 * {@link CLOCK_READING_TTL_MS} — a failure is kept as long, so a site that does not answer is not asked at every
 * opening either. Null when there is no reading. The caller has checked that the person has an account on the
 * origin and the extension may reach it. Never throws.
 */
export async function siteClockOffset(clock: SiteClock, origin: string, now: () => number): Promise<number | null> {
  const pending = underWay.get(clock) ?? new Map<string, Promise<number | null>>();
  underWay.set(clock, pending);
  const already = pending.get(origin);
  if (already !== undefined) return already;
  const reading = keptOrRead(clock, origin, now).finally(() => pending.delete(origin));
  pending.set(origin, reading);
  return reading;
}

async function keptOrRead(clock: SiteClock, origin: string, now: () => number): Promise<number | null> {
  const generation = siteClockGenerations.get(clock) ?? 0;
  const item = itemFor(origin);
  const kept = (await clock.area.get([item]).catch(() => ({}) as Record<string, unknown>))[item];
  const age = isReading(kept) ? now() - kept.at : Number.NaN;
  // A reading from the future (the clock was set back since) is no reading.
  if (isReading(kept) && age >= 0 && age < CLOCK_READING_TTL_MS) return kept.offsetMs;
  const sentAt = now();
  const header = await clock.fetchDate(`${origin}/`).catch(() => null);
  const receivedAt = now();
  const offsetMs = clockOffsetFromDate(header, sentAt, receivedAt);
  // Forgotten meanwhile: the answer goes to the popup that asked, and is not kept.
  if ((siteClockGenerations.get(clock) ?? 0) !== generation) return offsetMs;
  await clock.area.set({ [item]: { at: receivedAt, offsetMs } satisfies Reading }).catch(() => undefined);
  return offsetMs;
}
