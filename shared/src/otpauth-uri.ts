import { type HOTP, Secret, TOTP, URI } from 'otpauth';
import { isMigrationLink, MIGRATION_LINK_MESSAGE } from './migration-link.js';

/** The TOTP hash algorithms RFC 6238 names; anything else is refused. */
export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

/** A TOTP account as Latchkey stores it, independent of how it was entered. */
export interface TotpAccountParams {
  /** Who issued the secret ("PyPI"); may be empty when a URI names none. */
  issuer: string;
  /** The account name at the issuer ("alice"); never empty. */
  label: string;
  /** Canonical base32: upper case, no padding, no spaces. */
  secret: string;
  algorithm: TotpAlgorithm;
  digits: number;
  period: number;
}

/** Thrown for any URI or field that cannot become a {@link TotpAccountParams}; the message is for people. */
export class OtpauthUriError extends Error {
  override name = 'OtpauthUriError';
}

const ALGORITHMS: readonly TotpAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];
const BASE32_PATTERN = /^[A-Z2-7]+$/;
/** RFC 4226 section 4 asks for 128 bits; 80 bits is what many real issuers still hand out, so it is the floor. */
const MIN_SECRET_BYTES = 10;
const MAX_SECRET_BYTES = 128;
const MAX_URI_LENGTH = 2048;
const MAX_TEXT_LENGTH = 256;
const DIGITS = { min: 6, max: 8 } as const;
const PERIOD_SECONDS = { min: 10, max: 300 } as const;
/** For whatever the otpauth library still refuses after the checks below: its own text names no field a person knows. */
const INVALID_LINK = 'The link is not a valid otpauth:// address (it may be cut off or changed). Copy it again from the site.';

/**
 * Canonicalise a base32 secret as a person might type or paste it: spaces, dashes and `=` padding
 * removed, upper-cased, and re-encoded from its bytes. Throws {@link OtpauthUriError} with a message
 * that says what is wrong.
 */
export function normalizeBase32Secret(input: string): string {
  const folded = input
    .replace(/[\s-]+/g, '')
    .replace(/=+$/, '')
    .toUpperCase();
  if (folded.length === 0) throw new OtpauthUriError('The secret is empty.');
  if (!BASE32_PATTERN.test(folded)) {
    throw new OtpauthUriError('The secret must be base32: letters A–Z and digits 2–7 only.');
  }
  const bytes = Math.floor((folded.length * 5) / 8);
  if (bytes < MIN_SECRET_BYTES) {
    throw new OtpauthUriError(`The secret is too short: at least ${MIN_SECRET_BYTES * 8} bits (16 base32 characters).`);
  }
  if (bytes > MAX_SECRET_BYTES) throw new OtpauthUriError('The secret is too long.');
  // The bits after the last whole byte (a 17th character, or the low bits of the last one) are no part
  // of the key, so `JBSWY3DPEHPK3PXPA` and `JBSWY3DPEHPK3PXP` are one key. Re-encoding its bytes gives
  // the one string the otpauth library produces for a pasted link: typed, pasted, imported and backed-up
  // copies of a key then compare equal.
  return Secret.fromBase32(folded).base32;
}

/**
 * Check and canonicalise account fields however they arrived (typed, pasted, imported).
 * Unset optional fields take the Google Authenticator defaults: SHA1, 6 digits, 30 s.
 */
export function validateTotpAccount(input: {
  issuer?: string;
  label: string;
  secret: string;
  algorithm?: string;
  digits?: number;
  period?: number;
}): TotpAccountParams {
  const issuer = (input.issuer ?? '').trim();
  const label = input.label.trim();
  if (label.length === 0) throw new OtpauthUriError('The account name is empty.');
  if (label.length > MAX_TEXT_LENGTH || issuer.length > MAX_TEXT_LENGTH) {
    throw new OtpauthUriError(`Issuer and account name are limited to ${MAX_TEXT_LENGTH} characters.`);
  }
  const algorithm = (input.algorithm ?? 'SHA1').toUpperCase().replace('-', '') as TotpAlgorithm;
  if (!ALGORITHMS.includes(algorithm)) {
    throw new OtpauthUriError(`Unsupported algorithm "${input.algorithm}": use SHA1, SHA256 or SHA512.`);
  }
  const digits = input.digits ?? 6;
  if (!inRange(digits, DIGITS)) throw new OtpauthUriError('Codes must have 6, 7 or 8 digits.');
  const period = input.period ?? 30;
  if (!inRange(period, PERIOD_SECONDS)) {
    throw new OtpauthUriError(`The period must be a whole number of seconds from ${PERIOD_SECONDS.min} to ${PERIOD_SECONDS.max}.`);
  }
  return { issuer, label, secret: normalizeBase32Secret(input.secret), algorithm, digits, period };
}

/**
 * Parse an `otpauth://totp/…` key URI (the Google Authenticator format that QR codes carry).
 * Accepts the quirks real issuers produce: issuer only in the label, lower-case or padded secrets.
 * HOTP URIs are refused: a counter-based code cannot be shown without a server round-trip.
 * Every refusal a person can act on is named here, before the otpauth library sees the link: the
 * library's own messages ("Invalid URI format", "URI malformed") say nothing about what to fix.
 */
export function parseOtpauthUri(uri: string): TotpAccountParams {
  const text = typeof uri === 'string' ? uri.trim() : '';
  if (text.length === 0) throw new OtpauthUriError('The link is empty.');
  if (text.length > MAX_URI_LENGTH) throw new OtpauthUriError('The link is too long.');
  if (isMigrationLink(text)) throw new OtpauthUriError(MIGRATION_LINK_MESSAGE);
  const parts = /^otpauth:\/\/([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/is.exec(text);
  if (!parts) throw new OtpauthUriError('This is not an otpauth:// link.');
  const [, type = '', path = '', query = ''] = parts;
  if (type.toLowerCase() === 'hotp') throw new OtpauthUriError('Counter-based (HOTP) accounts are not supported; only TOTP.');
  if (type.toLowerCase() !== 'totp') throw new OtpauthUriError('This is not a two-factor link: it must start with otpauth://totp/.');
  const params = linkParameters(query);
  const secretParam = params.get('secret');
  if (secretParam === undefined || secretParam === '') throw new OtpauthUriError('The link has no secret= part: copy the whole link.');
  // Canonicalise first so the library's own base32 decoder sees what we validated.
  const secret = normalizeBase32Secret(secretParam);
  // An issuer with no one at it ("PyPI:") is no name either: the library would take "PyPI:" itself as the name.
  const name = safeDecode(path).replace(/^[^:]*:/, '');
  if (name.trim() === '') {
    throw new OtpauthUriError('The link has no account name (the part after otpauth://totp/).');
  }
  const algorithm = params.get('algorithm');
  if (algorithm !== undefined && !/^SHA(?:1|256|512)$/i.test(algorithm)) {
    throw new OtpauthUriError('The link’s algorithm is not supported: use SHA1, SHA256 or SHA512.');
  }
  if (!linkNumberIn(params.get('digits'), DIGITS)) {
    throw new OtpauthUriError('The link’s number of digits is not supported: codes must have 6, 7 or 8 digits.');
  }
  if (!linkNumberIn(params.get('period'), PERIOD_SECONDS)) {
    throw new OtpauthUriError(`The link’s period is not supported: it must be a whole number of seconds from ${PERIOD_SECONDS.min} to ${PERIOD_SECONDS.max}.`);
  }
  let otp: HOTP | TOTP;
  try {
    // Every secret= of a link that repeats it: the library reads the last, as linkParameters does.
    otp = URI.parse(text.replace(/([?&]secret=)[^&]*/gi, `$1${secret}`));
  } catch {
    throw new OtpauthUriError(INVALID_LINK);
  }
  if (!(otp instanceof TOTP)) throw new OtpauthUriError(INVALID_LINK);
  return validateTotpAccount({
    issuer: otp.issuer,
    label: otp.label,
    secret: otp.secret.base32,
    algorithm: otp.algorithm,
    digits: otp.digits,
    period: otp.period,
  });
}

/** Build the `otpauth://totp/…` URI for an account (what the server's QR code carries). */
export function formatOtpauthUri(account: TotpAccountParams): string {
  return new TOTP({
    issuer: account.issuer,
    label: account.label,
    issuerInLabel: account.issuer.length > 0,
    secret: Secret.fromBase32(account.secret),
    algorithm: account.algorithm,
    digits: account.digits,
    period: account.period,
  }).toString();
}

/**
 * A link's `key=value` parameters, decoded, keys lower-cased; the last of a repeated key wins, as in the
 * otpauth library. A bad %-escape anywhere is refused here, where it can be named.
 */
function linkParameters(query: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of query.split('&')) {
    const [key = '', value] = pair.split(/=(.*)/s, 2);
    params.set(safeDecode(key).toLowerCase(), safeDecode(value ?? ''));
  }
  return params;
}

/** Whether an optional numeric parameter, when present, is a whole number within `range`. */
function linkNumberIn(value: string | undefined, range: { min: number; max: number }): boolean {
  return value === undefined || (/^\d{1,4}$/.test(value) && inRange(Number(value), range));
}

function inRange(value: number, range: { min: number; max: number }): boolean {
  return Number.isInteger(value) && value >= range.min && value <= range.max;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new OtpauthUriError('The link has a badly escaped character (a % not followed by a valid code): copy it again from the site.');
  }
}
