/**
 * The bound on guessing a 6-digit TOTP code online, from the server's actual second-factor limits.
 *
 * Model (NIST SP 800-63B 5.2.2 rate limiting; RFC 6238 section 5.2 on the acceptance window):
 * the attacker already holds the password (that is what a second factor is for) and sends one
 * guess per attempt, as fast as the per-account limit lets them, from as many IP addresses as
 * they like (so only the per-account limit binds). The server accepts the codes of the current
 * step and of one step either side, so up to 3 of the 10^6 codes are valid at any moment:
 * p = 3 / 10^6 per guess. Over n guesses the chance of at least one success is 1 − (1 − p)^n.
 */
import type { RateLimitRule } from '../../../server/src/config.js';

export const TOTP_DIGITS = 6;
/** Codes accepted per attempt: steps t−1, t, t+1. */
export const ACCEPTED_CODES_PER_ATTEMPT = 3;
const DAY_MS = 86_400_000;
const YEAR_DAYS = 365;

export interface GuessingBound {
  /** Failures allowed per window (per account). */
  maxFailuresPerWindow: number;
  windowMinutes: number;
  attemptsPerDay: number;
  attemptsPerYear: number;
  /** Probability that one guess is right. */
  perAttempt: number;
  /** Probability of at least one success within a day / a year of maximum-rate guessing. */
  perDay: number;
  perYear: number;
  /** Expected time to the first success, in years, if only the windowed rule applied. */
  expectedYearsToSuccess: number;
  /** Wrong codes allowed per account in any rolling year, whatever the owner does (NIST SP 800-63B 5.2.2). */
  yearlyBudget: number;
  /** Probability of at least one success within a year: the bound that actually holds. */
  perYearBound: number;
}

/** Probability of at least one success in `n` independent tries of probability `p`, computed stably. */
export function atLeastOneSuccess(p: number, n: number): number {
  return -Math.expm1(n * Math.log1p(-p));
}

/** Compute the guessing bound for a fixed-window per-account limit. */
export function totpGuessingBound(rule: RateLimitRule, budget: RateLimitRule): GuessingBound {
  if (!(rule.max > 0) || !(rule.windowMs > 0)) throw new Error(`invalid rate-limit rule ${JSON.stringify(rule)}`);
  const perAttempt = ACCEPTED_CODES_PER_ATTEMPT / 10 ** TOTP_DIGITS;
  const attemptsPerDay = rule.max * (DAY_MS / rule.windowMs);
  const attemptsPerYear = attemptsPerDay * YEAR_DAYS;
  return {
    maxFailuresPerWindow: rule.max,
    windowMinutes: rule.windowMs / 60_000,
    attemptsPerDay,
    attemptsPerYear,
    perAttempt,
    perDay: atLeastOneSuccess(perAttempt, attemptsPerDay),
    perYear: atLeastOneSuccess(perAttempt, attemptsPerYear),
    expectedYearsToSuccess: 1 / perAttempt / attemptsPerYear,
    yearlyBudget: budget.max,
    perYearBound: atLeastOneSuccess(perAttempt, budget.max * Math.ceil((YEAR_DAYS * DAY_MS) / budget.windowMs)),
  };
}

/** One-line human summary, printed by the suites and copied into the Security section. */
export function describeGuessingBound(b: GuessingBound): string {
  return (
    `TOTP guessing bound: ${b.maxFailuresPerWindow} failures per ${b.windowMinutes} min per account → ` +
    `${b.attemptsPerDay.toLocaleString('en')} guesses/day, p=${b.perAttempt.toExponential(1)} each → ` +
    `P(success) ${(b.perDay * 100).toPrecision(2)} % per day, ${(b.perYear * 100).toPrecision(3)} % per year ` +
    `(expected ${b.expectedYearsToSuccess.toPrecision(3)} years) if only that window applied; the budget of ${b.yearlyBudget} wrong codes ` +
    `per rolling year (the owner's logins never give it back) limits it to ${b.perYearBound.toExponential(2)} per year`
  );
}
