import { DEFAULT_RATE_LIMITS, type RateLimitConfig } from '../../../../server/src/config.js';

/**
 * Production per-account limits, per-IP limits lifted: every simulated client of a suite comes from
 * 127.0.0.1, so the per-IP counter would otherwise decide suites that test something else. The
 * per-account rules — the ones that bound guessing — stay exactly as shipped.
 */
export const PER_IP_LIFTED: RateLimitConfig = {
  ...DEFAULT_RATE_LIMITS,
  passwordPerIp: { max: 1_000_000, windowMs: DEFAULT_RATE_LIMITS.passwordPerIp.windowMs },
  secondFactorPerIp: { max: 1_000_000, windowMs: DEFAULT_RATE_LIMITS.secondFactorPerIp.windowMs },
};

/** Every limit lifted: for fuzzing and timing, where the limiter would only cut the run short. */
export const ALL_LIFTED: RateLimitConfig = {
  passwordPerAccount: { max: 1_000_000, windowMs: 60_000 },
  passwordPerAccountAllPlaces: { max: 1_000_000, windowMs: 60_000 },
  passwordPerIp: { max: 1_000_000, windowMs: 60_000 },
  secondFactorPerAccount: { max: 1_000_000, windowMs: 60_000 },
  secondFactorPerIp: { max: 1_000_000, windowMs: 60_000 },
  totpGuessesPerYear: { max: 1_000_000, windowMs: 60_000 },
  reauthenticatePerSession: { max: 1_000_000, windowMs: 60_000 },
};
