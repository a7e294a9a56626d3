/** How long a clock reading may wait for the site: a slower answer would tell little anyway (clock-offset-from-date.ts). */
export const SITE_DATE_TIMEOUT_MS = 5_000;

/**
 * The `Date` header of one request to `url`, for reading the site's clock. HEAD: no body, nothing for the site
 * to act on, and every answer carries a `Date` — a 405 or a 404 as much as a 200 (RFC 9110 §6.6.1: an origin
 * server with a clock sends it on 2xx, 3xx and 4xx) — so there is no GET fallback to weigh. No cookies
 * (`credentials: 'omit'`): the request must not act as the person, nor tell the site more than that someone on
 * this address asked for the time. No cache: a cached answer's date is old. No redirects followed: the reading
 * is of this origin only, and a redirect's own answer already has the date (read when the browser exposes it).
 * No referrer.
 */
export async function fetchSiteDate(url: string): Promise<string | null> {
  const response = await fetch(url, {
    method: 'HEAD',
    credentials: 'omit',
    cache: 'no-store',
    redirect: 'manual',
    referrerPolicy: 'no-referrer',
    signal: AbortSignal.timeout(SITE_DATE_TIMEOUT_MS),
  });
  return response.headers.get('date');
}
