import { Secret, TOTP } from 'otpauth';

export interface CurrentTotpOptions {
  /** The moment to compute the code for (Date or ms since the epoch). Default: now. */
  at?: Date | number;
  /** Digits; the server uses 6 (DESIGN.md section 3). */
  digits?: number;
  /** Step length in seconds; the server uses 30. */
  period?: number;
  /** HMAC algorithm; the server uses SHA1 (RFC 6238 default, what every authenticator app supports). */
  algorithm?: 'SHA1' | 'SHA256' | 'SHA512';
}

const BASE32 = /^[A-Z2-7]+=*$/;

/**
 * The RFC 6238 code an authenticator app would show for `base32Secret` right now (or `at`).
 *
 * The server refuses a code whose 30-second step is at or before the last step it accepted for that
 * user (replay protection, DESIGN.md section 3). A journey that confirms TOTP and then logs in within
 * the same 30 s must therefore use the next step's code, which the server accepts as ±1 step drift:
 * `currentTotp(secret, { at: Date.now() + 30_000 })`.
 *
 * @example
 * ```ts
 * const user = await createUserIn(server, 'totp');
 * await page.fill('input[name="totp_value"]', currentTotp(user.totpSecret!));
 * ```
 */
export function currentTotp(base32Secret: string, options: CurrentTotpOptions = {}): string {
  const normalized = base32Secret.replace(/[\s-]/g, '').toUpperCase();
  if (normalized === '' || !BASE32.test(normalized)) {
    throw new TypeError(`currentTotp: expected a base32 secret (A-Z, 2-7), got ${JSON.stringify(base32Secret)}`);
  }
  const timestamp = options.at === undefined ? Date.now() : options.at instanceof Date ? options.at.getTime() : options.at;
  if (!Number.isFinite(timestamp)) throw new TypeError(`currentTotp: 'at' is not a valid time: ${String(options.at)}`);
  const totp = new TOTP({
    secret: Secret.fromBase32(normalized),
    algorithm: options.algorithm ?? 'SHA1',
    digits: options.digits ?? 6,
    period: options.period ?? 30,
  });
  return totp.generate({ timestamp });
}
