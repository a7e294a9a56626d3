import type { User } from '../db/schema.js';
import type { Accounts, TwoFactorStatus } from './accounts.js';
import { canonicalUsername } from './accounts.js';
import { EVENT_TAGS, type Events, type RequestOrigin } from './events.js';
import { LOGIN_TOKEN_MESSAGES, type LoginTokenProblem, type LoginTokens } from './login-tokens.js';
import { type AllowedAttempt, rateLimitMessage, type RateLimits } from './rate-limits.js';
import type { RecoveryCodes } from './recovery-codes.js';
import type { Totp } from './totp.js';

/** How a login (or its second step) was completed; recorded in `account:login:success`. */
export type LoginMethod = 'password' | 'totp' | 'recovery_code' | 'webauthn' | 'remembered_device';

export type PasswordStepResult =
  | { kind: 'blocked'; status: 429; message: string; retryAfterSeconds: number }
  | { kind: 'invalid'; status: 401; message: string }
  | { kind: 'authenticated'; user: User; twoFactor: TwoFactorStatus };

/**
 * A refusal carries `user` when the two-factor token was good: the account row the step already read,
 * so the page can be shown again without reading it twice.
 */
export type SecondFactorResult =
  | { kind: 'success'; user: User }
  | { kind: 'token-problem'; status: 400; problem: LoginTokenProblem; message: string }
  | { kind: 'blocked'; status: 429; message: string; retryAfterSeconds: number; user?: User }
  | { kind: 'invalid'; status: 400 | 401; message: string; user?: User };

/** What a second-factor route gets back from {@link Login.beginSecondFactor}. */
export type SecondFactorGate =
  | { kind: 'ready'; user: User }
  | Extract<SecondFactorResult, { kind: 'token-problem' | 'blocked' }>;

/** A second-factor attempt that was counted against the limits and may now check its secret. */
export interface SecondFactorAttempt {
  kind: 'ready';
  user: User;
  attempt: AllowedAttempt;
}

/**
 * The login flow's rules in one place: rate limits before any secret is checked, events for every
 * outcome, and the two-factor token used up exactly when a session is about to be created.
 * Routes (including the WebAuthn ones) call these and only render the outcome.
 */
export interface Login {
  passwordStep(input: { username: string; password: string }, origin: RequestOrigin): Promise<PasswordStepResult>;
  /** Record the success of a login that needs no second factor now (no 2FA, or a remembered device). */
  recordLoginSuccess(user: User, method: LoginMethod, origin: RequestOrigin): Promise<void>;
  totpStep(input: { token: unknown; code: string }, origin: RequestOrigin): Promise<SecondFactorResult>;
  recoveryCodeStep(input: { token: unknown; code: string }, origin: RequestOrigin): Promise<SecondFactorResult>;
  /** For a step that checks no secret (WebAuthn options): T still valid and the user/IP not locked out. Counts nothing. */
  beginSecondFactor(token: unknown, origin: RequestOrigin): Promise<SecondFactorGate>;
  /** Before checking a second factor's secret: T still valid, and this attempt counted against the limits first. */
  attemptSecondFactor(token: unknown, origin: RequestOrigin): Promise<SecondFactorAttempt | Exclude<SecondFactorGate, { kind: 'ready' }>>;
  /** Record a failed second factor (already counted); returns the message to show (the lock-out message once locked). */
  failSecondFactor(gate: SecondFactorAttempt, method: LoginMethod, origin: RequestOrigin, message: string): Promise<Extract<SecondFactorResult, { kind: 'invalid' | 'blocked' }>>;
  /** The same for a failure whose event the caller already recorded (security keys record why they were refused). */
  countSecondFactorFailure(gate: SecondFactorAttempt, origin: RequestOrigin, message: string): Promise<Extract<SecondFactorResult, { kind: 'invalid' | 'blocked' }>>;
  /** The attempt tested no secret (malformed input): give it back to the limits. */
  withdrawSecondFactor(gate: SecondFactorAttempt, origin: RequestOrigin): Promise<void>;
  /** The second factor was right: give the attempt back, burn T (exactly once), record the login. */
  completeSecondFactor(token: unknown, method: LoginMethod, origin: RequestOrigin): Promise<SecondFactorResult>;
}

const WRONG_PASSWORD = 'The username or password is incorrect.';

export function createLogin(deps: {
  accounts: Accounts;
  events: Events;
  loginTokens: LoginTokens;
  rateLimits: RateLimits;
  totp: Totp;
  recoveryCodes: RecoveryCodes;
}): Login {
  const { accounts, events, loginTokens, rateLimits, totp, recoveryCodes } = deps;

  const blocked = (retryAfterMs: number) =>
    ({ kind: 'blocked', status: 429, message: rateLimitMessage(retryAfterMs), retryAfterSeconds: Math.ceil(retryAfterMs / 1000) }) as const;
  const tokenProblem = (problem: LoginTokenProblem) =>
    ({ kind: 'token-problem', status: 400, problem, message: LOGIN_TOKEN_MESSAGES[problem] }) as const;

  /** A counted attempt failed: when it was the last one allowed, the lock-out starts now — record and say so. */
  const afterFailure = async (attempt: AllowedAttempt, userId: string | null, step: 'password' | 'second-factor', origin: RequestOrigin) => {
    if (!attempt.lastAllowed) return null;
    if (userId && attempt.lastAllowed.reason === 'account') await events.record({ userId, tag: EVENT_TAGS.lockout, origin, details: { step } });
    return blocked(attempt.lastAllowed.retryAfterMs);
  };

  /** The second factor was right and T is used up: give the attempt back, forget the failures, record the login. */
  const succeed = async (user: User, method: LoginMethod, origin: RequestOrigin): Promise<SecondFactorResult> => {
    await rateLimits.succeeded('second-factor', { account: user.id, ip: origin.ip });
    await login.recordLoginSuccess(user, method, origin);
    return { kind: 'success', user };
  };

  const login: Login = {
    async passwordStep({ username, password }, origin) {
      const account = canonicalUsername(username);
      const subject = { account, ip: origin.ip };
      const attempt = await rateLimits.attempt('password', subject);
      if (attempt.blocked) return blocked(attempt.retryAfterMs);
      const user = await accounts.findByUsername(account);
      // Same argon2 work whether or not the user exists (no timing oracle for usernames).
      const valid = await accounts.verifyPassword(user, password);
      if (!user || !valid) {
        if (user) await events.record({ userId: user.id, tag: EVENT_TAGS.loginFailure, origin, details: { reason: 'password' } });
        await afterFailure(attempt, user?.id ?? null, 'password', origin);
        // Same message locked or not for unknown users too: the lock-out itself shows on the next try.
        return { kind: 'invalid', status: 401, message: WRONG_PASSWORD };
      }
      await rateLimits.refund('password', subject);
      return { kind: 'authenticated', user, twoFactor: await accounts.twoFactorStatus(user.id) };
    },

    async recordLoginSuccess(user, method, origin) {
      await rateLimits.resetAccount('password', user.username);
      await events.record({ userId: user.id, tag: EVENT_TAGS.loginSuccess, origin, details: { method } });
    },

    async beginSecondFactor(token, origin) {
      const inspected = await loginTokens.inspect(token);
      if (!inspected.ok) return tokenProblem(inspected.problem);
      const verdict = await rateLimits.check('second-factor', { account: inspected.user.id, ip: origin.ip });
      if (verdict.blocked) return blocked(verdict.retryAfterMs);
      return { kind: 'ready', user: inspected.user };
    },

    async attemptSecondFactor(token, origin) {
      const inspected = await loginTokens.inspect(token);
      if (!inspected.ok) return tokenProblem(inspected.problem);
      const attempt = await rateLimits.attempt('second-factor', { account: inspected.user.id, ip: origin.ip });
      if (attempt.blocked) return { ...blocked(attempt.retryAfterMs), user: inspected.user };
      return { kind: 'ready', user: inspected.user, attempt };
    },

    async failSecondFactor(gate, method, origin, message) {
      await events.record({ userId: gate.user.id, tag: EVENT_TAGS.secondFactorFailure, origin, details: { method } });
      return login.countSecondFactorFailure(gate, origin, message);
    },

    async countSecondFactorFailure(gate, origin, message) {
      const refusal = (await afterFailure(gate.attempt, gate.user.id, 'second-factor', origin)) ?? ({ kind: 'invalid', status: 401, message } as const);
      return { ...refusal, user: gate.user };
    },

    async withdrawSecondFactor(gate, origin) {
      await rateLimits.refund('second-factor', { account: gate.user.id, ip: origin.ip });
    },

    async completeSecondFactor(token, method, origin) {
      const consumed = await loginTokens.consume(token);
      if (!consumed.ok) return tokenProblem(consumed.problem);
      return succeed(consumed.user, method, origin);
    },

    async totpStep({ token, code }, origin) {
      const gate = await login.attemptSecondFactor(token, origin);
      if (gate.kind !== 'ready') return gate;
      const check = await totp.verify(gate.user, code);
      switch (check) {
        case 'ok':
          return login.completeSecondFactor(token, 'totp', origin);
        case 'malformed':
          await login.withdrawSecondFactor(gate, origin);
          return { kind: 'invalid', status: 400, message: 'Enter the 6-digit code from your authentication app.', user: gate.user };
        case 'not-enabled':
          await login.withdrawSecondFactor(gate, origin);
          return { kind: 'invalid', status: 400, message: 'Your account has no authentication app set up; use another method.', user: gate.user };
        case 'replayed':
          return login.failSecondFactor(gate, 'totp', origin, 'This code has already been used. Wait for the next code and try again.');
        case 'invalid':
          return login.failSecondFactor(gate, 'totp', origin, 'Invalid code. Check your device’s clock and try the current code.');
      }
    },

    async recoveryCodeStep({ token, code }, origin) {
      const gate = await login.attemptSecondFactor(token, origin);
      if (gate.kind !== 'ready') return gate;
      const check = await recoveryCodes.check(gate.user.id, code);
      switch (check) {
        case 'ok': {
          // Use T up before burning the code: when another factor logs in with the same T at the same
          // moment, this request loses T and the scarce recovery code stays unspent.
          const consumed = await loginTokens.consume(token);
          if (!consumed.ok) return tokenProblem(consumed.problem);
          // Exactly one request burns a code; one that lost that race has used up its T for nothing.
          if ((await recoveryCodes.use(gate.user.id, code, origin)) !== 'ok') {
            return login.failSecondFactor(gate, 'recovery_code', origin, 'This recovery code has already been used. Each code works only once. Log in again.');
          }
          return succeed(consumed.user, 'recovery_code', origin);
        }
        case 'malformed':
          await login.withdrawSecondFactor(gate, origin);
          return { kind: 'invalid', status: 400, message: 'A recovery code is 16 characters: digits 0–9 and letters a–f.' };
        case 'used':
          return login.failSecondFactor(gate, 'recovery_code', origin, 'This recovery code has already been used. Each code works only once.');
        case 'invalid':
          return login.failSecondFactor(gate, 'recovery_code', origin, 'Invalid recovery code.');
      }
    },
  };
  return login;
}
