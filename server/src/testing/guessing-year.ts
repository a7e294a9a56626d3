import { Secret } from 'otpauth';
import { EVENT_TAGS } from '../services/events.js';
import { generateTotpCode } from '../services/totp-code.js';
import type { ServiceHarness } from './service-harness.js';

const PASSWORD = 'correct horse battery staple';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Probability that one TOTP guess is right with ±1 step accepted: 3 codes of 10⁶. */
export const TOTP_GUESS_SUCCESS = 3 / 1e6;

/** A simulated year: days, the owner's logins a day, attack windows a day, wrong codes a window (4 stays under the 5/15 min lock). */
export interface GuessingPlan {
  days: number;
  ownerLoginsPerDay: number;
  windowsPerDay: number;
  guessesPerWindow: number;
}

export interface GuessingYear {
  /** Wrong codes that were actually checked (each recorded as a second-factor failure the owner sees). */
  evaluated: number;
  /** 1 − (1 − p)^evaluated: the attacker's chance of passing the second factor over the simulation. */
  successProbability: number;
  attackerSucceeded: number;
  /** Each owner login: 'app', 'recovery code', or the message that refused the app. */
  owners: string[];
  tags: string[];
}

/**
 * Issue 14 point 1, with a moved clock: an attacker who knows the password (so holds a fresh two-factor
 * token whenever they like) sends wrong TOTP codes at the short window's pace, while the owner logs in
 * with the app every day — and with a recovery code once the app is refused. Returns what was
 * evaluated. Used by the unit test (a gentle pace) and the stress suite (the issue's measured pace).
 */
export async function simulateGuessingYear(h: ServiceHarness, plan: GuessingPlan): Promise<GuessingYear> {
  const user = await h.services.accounts.register({
    username: `v${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
    email: 'v@example.org',
    password: PASSWORD,
  });
  const secret = h.services.totp.generateSecret();
  await h.services.totp.enable(user.id, secret);
  const recoveryCodes = await h.services.recoveryCodes.generate(user.id);
  const codeAt = (time: number) => generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: time });
  const wrongCode = () => wrongTotpCode(codeAt, h.clock());
  // The password step is what hands out two-factor tokens; both sides pass it, so tokens are issued directly.
  const freshToken = async () => h.services.loginTokens.issue((await h.services.accounts.findById(user.id))!);
  const owner = { ip: '198.51.100.10', userAgent: 'owner' };
  const attacker = { ip: '203.0.113.66', userAgent: 'attacker' };
  const start = h.clock();
  const owners: string[] = [];
  let attackerSucceeded = 0;
  let recoveryCodesUsed = 0;
  for (let day = 0; day < plan.days; day++) {
    for (let login = 0; login < plan.ownerLoginsPerDay; login++) {
      h.clock.set(start + day * DAY + (7 + login) * 60 * MINUTE);
      const token = await freshToken();
      const viaApp = await h.services.login.totpStep({ token, code: codeAt(h.clock()) }, owner);
      owners.push(viaApp.kind === 'success' ? 'app' : viaApp.message);
      // Refused: the owner falls back on a recovery code (the first few times; they have 8).
      if (viaApp.kind !== 'success' && recoveryCodesUsed < 2) {
        const viaCode = await h.services.login.recoveryCodeStep({ token, code: recoveryCodes[recoveryCodesUsed]! }, owner);
        if (viaCode.kind === 'success') owners.push('recovery code');
        recoveryCodesUsed++;
      }
    }
    for (let window = 0; window < plan.windowsPerDay; window++) {
      h.clock.set(start + day * DAY + 10 * 60 * MINUTE + window * 15 * MINUTE);
      const token = await freshToken();
      for (let guess = 0; guess < plan.guessesPerWindow; guess++) {
        if ((await h.services.login.totpStep({ token, code: wrongCode() }, attacker)).kind === 'success') attackerSucceeded++;
      }
    }
  }
  const events = await h.db.selectFrom('events').select('tag').where('user_id', '=', user.id).execute();
  const tags = events.map((row) => row.tag);
  const evaluated = tags.filter((tag) => tag === EVENT_TAGS.secondFactorFailure).length;
  return { evaluated, successProbability: -Math.expm1(evaluated * Math.log1p(-TOTP_GUESS_SUCCESS)), attackerSucceeded, owners, tags };
}

/** A well-formed code that is certainly wrong at `now`: none of the three accepted (steps −1, 0, +1). */
export function wrongTotpCode(codeAt: (time: number) => string, now: number): string {
  const accepted = new Set([-30_000, 0, 30_000].map((offset) => codeAt(now + offset)));
  for (let candidate = 0; ; candidate++) {
    const code = String(candidate).padStart(6, '0');
    if (!accepted.has(code)) return code;
  }
}

export function describeGuessingYear(plan: GuessingPlan, year: GuessingYear): string {
  return (
    `${plan.days} days, owner logs in ${plan.ownerLoginsPerDay}×/day, attacker ${plan.windowsPerDay * plan.guessesPerWindow} wrong codes/day ` +
    `(${plan.guessesPerWindow} per 15 min) → ${year.evaluated} evaluated, P(pass) ≤ ${year.successProbability.toExponential(2)} per year`
  );
}
