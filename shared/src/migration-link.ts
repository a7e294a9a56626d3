// Dependency-free (no otpauth library), so the extension's popup can say it without loading the parser.

/**
 * What an `otpauth-migration://` link is told: Google Authenticator's "Transfer accounts" export, many accounts in
 * one encoded blob rather than a key URI. Named as such, with what to do instead (it got the generic "not an
 * otpauth:// link"). The extension's popup says the same before asking its background.
 */
export const MIGRATION_LINK_MESSAGE =
  'Export links from Google Authenticator (otpauth-migration://) are not supported: add each account from its own QR code or otpauth:// link.';

/** Whether `text` is an `otpauth-migration://` link (Google Authenticator's export), whatever its case. */
export function isMigrationLink(text: string): boolean {
  return /^\s*otpauth-migration:/i.test(text);
}
