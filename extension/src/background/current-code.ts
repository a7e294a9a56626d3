import { Secret, TOTP } from 'otpauth';
import type { VaultAccount } from '../vault/payload.js';

/** The current TOTP code for an account (RFC 6238, via the otpauth library). */
export function currentCode(account: Pick<VaultAccount, 'secret' | 'algorithm' | 'digits' | 'period'>, now: number): string {
  return new TOTP({
    secret: Secret.fromBase32(account.secret),
    algorithm: account.algorithm,
    digits: account.digits,
    period: account.period,
  }).generate({ timestamp: now });
}

/** When the code of the period holding `now` stops being current (ms since the epoch; RFC 6238 steps from T0 = 0). */
export function codeValidUntil(periodSeconds: number, now: number): number {
  const periodMs = periodSeconds * 1000;
  return (Math.floor(now / periodMs) + 1) * periodMs;
}
