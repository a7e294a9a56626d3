/**
 * A `Date` header counts whole seconds and drops the fraction (RFC 9110 §5.6.7 IMF-fixdate), so the server's
 * clock read anywhere in [stamp, stamp + 1 s): half a second is the middle of that.
 */
const DATE_RESOLUTION_MIDDLE_MS = 500;

/**
 * A round trip longer than this says little about when the server stamped its answer (anywhere between the
 * send and the receipt): no reading rather than one that may be off by more than a few seconds.
 */
export const MAX_ROUND_TRIP_MS = 4_000;

/**
 * How far a site's clock is ahead of this computer's (ms; negative: behind), from its response's `Date` header
 * and this computer's clock when the request was sent and when the answer came. The server stamped its answer
 * somewhere during the round trip; the midpoint is the best guess (as SNTP does, RFC 4330 §5). Null when the
 * header is not a date or the round trip is too long (or ran backwards: the clock was set meanwhile) to tell.
 */
export function clockOffsetFromDate(dateHeader: string | null, sentAt: number, receivedAt: number): number | null {
  if (dateHeader === null) return null;
  const roundTrip = receivedAt - sentAt;
  if (!(roundTrip >= 0 && roundTrip <= MAX_ROUND_TRIP_MS)) return null;
  // Only the HTTP-date form (RFC 9110 §5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT"): Date.parse alone also takes
  // ISO strings and local-time forms, and a value meant for another purpose is not one to judge a clock by.
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(dateHeader.trim())) return null;
  const serverTime = Date.parse(dateHeader);
  if (!Number.isFinite(serverTime)) return null;
  return Math.round(serverTime + DATE_RESOLUTION_MIDDLE_MS - (sentAt + receivedAt) / 2);
}
