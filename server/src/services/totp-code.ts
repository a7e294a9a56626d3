import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as used for login: SHA-1, 6 digits, 30-second steps (DESIGN.md section 3). */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of "now" (clock drift; RFC 6238 section 5.2 recommends at most one). */
export const TOTP_WINDOW = 1;
/** 160-bit secrets (RFC 4226 section 4 recommends 160). */
export const TOTP_SECRET_BYTES = 20;

/** A fresh random secret in canonical base32. */
export function generateTotpSecret(): string {
  return new Secret({ size: TOTP_SECRET_BYTES }).base32;
}

/** The time step a timestamp (ms) falls in. */
export function totpStepAt(timestampMs: number): number {
  return Math.floor(timestampMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** Generate a code (otpauth does the RFC 4226/6238 math; tests check it against RFC 6238 Appendix B). */
export function generateTotpCode(options: { secret: Secret; timestampMs: number; digits?: number; algorithm?: 'SHA1' | 'SHA256' | 'SHA512' }): string {
  return TOTP.generate({
    secret: options.secret,
    timestamp: options.timestampMs,
    digits: options.digits ?? TOTP_DIGITS,
    algorithm: options.algorithm ?? 'SHA1',
    period: TOTP_PERIOD_SECONDS,
  });
}

/**
 * The time step whose code equals `code` within ±{@link TOTP_WINDOW} of `timestampMs`, or null.
 * otpauth compares candidates in constant time.
 */
export function matchTotpStep(base32Secret: string, code: string, timestampMs: number): number | null {
  const delta = TOTP.validate({
    token: code,
    secret: Secret.fromBase32(base32Secret),
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    timestamp: timestampMs,
    window: TOTP_WINDOW,
  });
  return delta === null ? null : totpStepAt(timestampMs) + delta;
}

/** Strip spaces people type ("123 456"); null unless exactly six digits remain. */
export function normalizeTotpCode(input: string): string | null {
  const folded = input.replace(/\s+/g, '');
  return /^\d{6}$/.test(folded) ? folded : null;
}
