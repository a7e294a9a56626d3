/**
 * The host-permission match pattern for an account's canonical origin: `scheme://host/*`, never
 * with the port. Firefox ignores ports in match patterns and, measured in Firefox ESR 153, a pattern
 * with a port is recorded but never matches a tab (`tabs.get` gives no URL, injection fails with
 * "Missing host permission"); Chromium matches `scheme://host/*` on every port. The grant is
 * therefore wider than the origin; the exact-origin rule (scheme, host and port) is enforced in code
 * by the background before anything is injected (vault/origin.ts `originMatches`).
 */
export function siteAccessPattern(origin: string): string {
  const url = new URL(origin);
  return `${url.protocol}//${url.hostname}/*`;
}
