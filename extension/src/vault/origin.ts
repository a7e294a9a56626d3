/**
 * Origins as Latchkey compares them: `scheme://host[:port]` exactly as the browser's URL parser
 * serialises them (lower-case host, IDN in punycode, default port dropped). Nothing looser — no
 * subdomain, scheme or port leniency — because a code typed into a lookalike page is a phished code.
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Thrown for an origin a person typed that Latchkey will not fill into; the message says why. */
export class OriginError extends Error {
  override name = 'OriginError';
}

/**
 * Canonicalise an origin a person typed or the active tab reported. Accepts `pypi.org` (https is
 * assumed) and full URLs (path dropped). Refuses userinfo, non-web schemes, and plain http except on
 * loopback hosts (a self-hosted server under development).
 */
export function normalizeOrigin(input: string): string {
  const text = input.trim();
  if (text.length === 0) throw new OriginError('The site address is empty.');
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new OriginError(`"${text}" is not a web address.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OriginError('Only https:// sites (or http:// on this computer) can receive codes.');
  }
  if (url.username !== '' || url.password !== '') throw new OriginError('The address must not contain a user name.');
  if (url.hostname === '') throw new OriginError('The address has no host.');
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new OriginError('Codes are only filled over https:// (plain http:// is allowed for localhost only).');
  }
  return url.origin;
}

/** The origin of a tab URL, or null for pages that have none we fill into (chrome://, file:, about:blank…). */
export function tabOrigin(tabUrl: string | undefined): string | null {
  if (tabUrl === undefined) return null;
  try {
    const url = new URL(tabUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    return url.origin;
  } catch {
    return null;
  }
}

/**
 * True only when the tab's URL has exactly the account's origin (scheme, host and port).
 * `accountOrigin` must already be canonical (see {@link normalizeOrigin}); anything else never matches.
 */
export function originMatches(accountOrigin: string, tabUrl: string | undefined): boolean {
  const origin = tabOrigin(tabUrl);
  if (origin === null) return false;
  let canonical: string;
  try {
    canonical = normalizeOrigin(accountOrigin);
  } catch {
    return false;
  }
  return canonical === accountOrigin && origin === canonical;
}
