import { type HOTP, Secret, TOTP, URI } from 'otpauth';

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

/**
 * Canonicalise a base32 secret as a person might type or paste it: spaces, dashes and `=` padding
 * removed, upper-cased. Throws {@link OtpauthUriError} with a message that says what is wrong.
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
  return folded;
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
  if (!Number.isInteger(digits) || digits < 6 || digits > 8) {
    throw new OtpauthUriError('Codes must have 6, 7 or 8 digits.');
  }
  const period = input.period ?? 30;
  if (!Number.isInteger(period) || period < 10 || period > 300) {
    throw new OtpauthUriError('The period must be a whole number of seconds from 10 to 300.');
  }
  return { issuer, label, secret: normalizeBase32Secret(input.secret), algorithm, digits, period };
}

/**
 * Parse an `otpauth://totp/…` key URI (the Google Authenticator format that QR codes carry).
 * Accepts the quirks real issuers produce: issuer only in the label, lower-case or padded secrets.
 * HOTP URIs are refused: a counter-based code cannot be shown without a server round-trip.
 */
export function parseOtpauthUri(uri: string): TotpAccountParams {
  const text = typeof uri === 'string' ? uri.trim() : '';
  if (text.length === 0) throw new OtpauthUriError('The URI is empty.');
  if (text.length > MAX_URI_LENGTH) throw new OtpauthUriError('The URI is too long.');
  if (!/^otpauth:\/\//i.test(text)) throw new OtpauthUriError('Not an otpauth:// URI.');
  const secretParam = /[?&]secret=([^&]*)/i.exec(text)?.[1];
  if (secretParam === undefined || secretParam === '') {
    throw new OtpauthUriError('The URI has no secret parameter.');
  }
  // Canonicalise first so the library's own base32 decoder sees what we validated.
  const secret = normalizeBase32Secret(safeDecode(secretParam));
  let otp: HOTP | TOTP;
  try {
    otp = URI.parse(text.replace(/([?&]secret=)[^&]*/i, `$1${secret}`));
  } catch (error) {
    const detail = error instanceof Error ? `: ${error.message}` : '';
    throw new OtpauthUriError(`The otpauth URI is malformed${detail}.`);
  }
  if (!(otp instanceof TOTP)) throw new OtpauthUriError('Counter-based (HOTP) accounts are not supported; only TOTP.');
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

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new OtpauthUriError('The URI has a badly escaped character.');
  }
}
