/**
 * Tag of the journeys that also run on PostgreSQL (the `postgres` project in test/playwright.config.ts);
 * every journey runs on SQLite. `test('…', { tag: POSTGRES_TOO }, async (…) => …)`.
 *
 * The server's routes and services are tested on both databases by the unit and HTTP suites; the
 * journeys on PostgreSQL are the ones whose path crosses the most of its data layer through the real
 * pages: registration with a mailed link, TOTP and recovery codes, a security key, a password reset, a
 * second address made primary.
 */
export const POSTGRES_TOO = '@postgres';
