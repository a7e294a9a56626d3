import { displayOrigin } from './format.js';

/**
 * From how far off the clock is worth a warning. A server accepts the code of the step before and after its
 * own (Latchkey's and PyPI's: one 30 s step either way, RFC 6238 §5.2), so a clock off by less is always
 * accepted, and from 30 s on some codes are refused — from 60 s on most.
 */
export const CLOCK_WARNING_MS = 30_000;

const UNITS = [
  { name: 'day', seconds: 86_400 },
  { name: 'hour', seconds: 3_600 },
  { name: 'minute', seconds: 60 },
  { name: 'second', seconds: 1 },
] as const;

/** "2 minutes 10 seconds", "1 hour 5 minutes", "3 days": the largest unit and the next, the next only when not zero. */
function duration(totalSeconds: number): string {
  let rest = totalSeconds;
  const counts = UNITS.map((unit) => {
    const count = Math.floor(rest / unit.seconds);
    rest -= count * unit.seconds;
    return { unit: unit.name, count };
  });
  const largest = counts.findIndex(({ count }) => count > 0);
  return counts
    .slice(largest, largest + 2)
    .filter(({ count }) => count > 0)
    .map(({ unit, count }) => `${count} ${unit}${count === 1 ? '' : 's'}`)
    .join(' ');
}

/**
 * The warning that this computer's clock is far enough from the site's for its codes to be refused, or null.
 * `offsetMs`: how far the site's clock is ahead of this computer's (negative: behind; null: not measured).
 * Only words: the reading comes from the site's `Date` header, which any site may set as it likes, so it never
 * changes a code (docs/extension.md, "When the computer's clock is off").
 */
export function describeClockOffset(offsetMs: number | null, origin: string | null): string | null {
  if (offsetMs === null || origin === null || !Number.isFinite(offsetMs) || Math.abs(offsetMs) < CLOCK_WARNING_MS) return null;
  const off = duration(Math.round(Math.abs(offsetMs) / 1000));
  const where = offsetMs > 0 ? 'behind' : 'ahead of';
  return `This computer’s clock is ${off} ${where} ${displayOrigin(origin)}’s. Codes may be refused: set the clock to update automatically.`;
}
