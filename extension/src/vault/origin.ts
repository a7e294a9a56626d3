import { isLoopbackHost } from '@latchkey/shared';

/**
 * Origins as Latchkey compares them: `scheme://host[:port]` exactly as the browser's URL parser
 * serialises them (lower-case host, IDN in punycode, default port dropped). Nothing looser — no
 * subdomain, scheme or port leniency — because a code typed into a lookalike page is a phished code.
 */

/** Thrown for an origin a person typed that Latchkey will not fill into; the message says why. */
export class OriginError extends Error {
  override name = 'OriginError';
  /**
   * @param suggestion the full origin the person probably meant (an address typed without a scheme);
   * the popup offers it as a one-click answer rather than choosing it silently.
   */
  constructor(
    message: string,
    readonly suggestion?: string,
  ) {
    super(message);
  }
}

/**
 * Canonicalise an origin a person typed or the active tab reported: full URLs (path dropped).
 * Refuses userinfo, non-web schemes, and plain http except on loopback hosts (a self-hosted server
 * under development). An address without a scheme (`pypi.org`) is refused with a suggestion
 * (`https://pypi.org`, or `http://` on a loopback host): https:// and http:// are different sites, and
 * which one receives codes is the person's call, never a guess.
 */
export function normalizeOrigin(input: string): string {
  const text = input.trim();
  if (text.length === 0) throw new OriginError('The site address is empty.');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !/^[a-z][a-z0-9+.-]*:(?!\d)/i.test(text)) {
    const suggestion = suggestScheme(text.replace(/^\/\//, ''));
    if (suggestion) throw new OriginError(`Did you mean ${suggestion}? Type the address with its scheme.`, suggestion);
    throw new OriginError(`"${text}" is not a web address.`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OriginError(`"${text}" is not a web address.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OriginError('Only https:// sites (or http:// on this computer) can receive codes.');
  }
  if (url.username !== '' || url.password !== '') throw new OriginError('The address must not contain a user name.');
  if (url.hostname === '') throw new OriginError('The address has no host.');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new OriginError('Codes are only filled over https:// (plain http:// is allowed for localhost only).');
  }
  return url.origin;
}

/** The origin `text` would be with a scheme in front, when that makes a valid one; else undefined. */
function suggestScheme(text: string): string | undefined {
  for (const scheme of ['https://', 'http://']) {
    try {
      const origin = normalizeOrigin(`${scheme}${text}`);
      // http:// only where it is accepted (loopback); https:// first everywhere else.
      if (scheme === 'https://' && isLoopbackHost(new URL(origin).hostname)) continue;
      return origin;
    } catch {
      // not valid with this scheme either
    }
  }
  return undefined;
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
