import type { Kysely } from 'kysely';
import { inTransaction } from '../db/in-transaction.js';
import type { Database, User } from '../db/schema.js';
import type { Accounts, TwoFactorStatus } from './accounts.js';
import { canonicalUsername } from './accounts.js';
import { EVENT_TAGS, type Events, type RequestOrigin } from './events.js';
import { LOGIN_TOKEN_MESSAGES, type LoginTokenProblem, type LoginTokenResult, type LoginTokens, type SecondStepMethods } from './login-tokens.js';
import type { CounterRowsPart } from './rate-limit-counters.js';
import { type AllowedAttempt, rateLimitMessage, type RateLimits } from './rate-limits.js';
import type { RecoveryCodes } from './recovery-codes.js';
import type { RememberedDevices } from './remembered-devices.js';
import type { SessionRow } from '../db/schema.js';
import { LoginOutdated, type Sessions } from './sessions.js';
import type { Totp } from './totp.js';
import type { TotpGuessBudget } from './totp-guess-budget.js';

/** How a login (or its second step) was completed; recorded in `account:login:success`. */
export type LoginMethod = 'password' | 'totp' | 'recovery_code' | 'webauthn' | 'remembered_device';

/** What earned a new session: a login's method, or the registration that has just created the account. */
export type SessionGrant = LoginMethod | 'registration';

/** A session {@link Login.startSession} started: the cookie's token and its row. */
export interface StartedSession {
  token: string;
  session: SessionRow;
}

/** Why a login whose factors were right got no session ({@link LoginOutdated}); the routes say it as SESSION_ENDED_NOTICES.changed. */
const LOGIN_STOPPED = new LoginOutdated().message;

export type PasswordStepResult =
  | { kind: 'blocked'; status: 429; message: string; retryAfterSeconds: number }
  | { kind: 'invalid'; status: 401; message: string }
  | { kind: 'authenticated'; user: User; twoFactor: TwoFactorStatus };

/**
 * A refusal carries `user` when the two-factor token was good: the account row the step already read,
 * so the page can be shown again without reading it twice. It carries `locks` when the step itself
 * learnt what is locked now (a wrong TOTP code: its own counter writes returned the counts), so the page
 * need not read them again.
 */
export type SecondFactorResult =
  | { kind: 'success'; user: User; started: StartedSession }
  /** The factor was right, but the account changed meanwhile: no session, `account:login:stopped` recorded (see {@link Login.startSession}). */
  | { kind: 'stopped'; status: 409; message: string; user: User }
  | { kind: 'token-problem'; status: 400; problem: LoginTokenProblem; message: string }
  /** `reason` says which lock refused: the page says the app's own (the year's budget) in words of its own. */
  | { kind: 'blocked'; status: 429; reason: SecondFactorLock['reason']; message: string; retryAfterSeconds: number; user?: User; locks?: SecondFactorLocks }
  | { kind: 'invalid'; status: 400 | 401; message: string; user?: User; locks?: SecondFactorLocks };

/** {@link Login.secondStepPage}'s answer: T's problem, or its account, the factors T carries (null: not carried) and the locks. */
export type SecondStepPage =
  | { ok: false; problem: LoginTokenProblem }
  | { ok: true; userId: string; methods: SecondStepMethods | null; locks: SecondFactorLocks };

/** What a second-factor route gets back from {@link Login.beginSecondFactor}. */
export type SecondFactorGate = { kind: 'ready'; userId: string } | Extract<SecondFactorResult, { kind: 'token-problem' | 'blocked' }>;

/** Every method is paused (too many failures in the short window, per account or from this address). */
export interface SecondFactorPause {
  reason: 'paused';
  message: string;
  retryAfterSeconds: number;
}

/**
 * The authentication app only: the year's guessing budget is spent; keys and recovery codes still work.
 * `message` is {@link TOTP_BUDGET_SPENT}, which names no other factor: a page that knows them says
 * {@link totpBudgetSpent} instead, chosen by `reason` (never by comparing the words, which may change).
 */
export interface TotpBudgetLock {
  reason: 'totp-budget-spent';
  message: string;
}

/** A lock on the second step, and which kind it is. */
export type SecondFactorLock = SecondFactorPause | TotpBudgetLock;

/** What the two-factor page says before any code is sent: which methods are locked now, and why. */
export interface SecondFactorLocks {
  all: SecondFactorPause | null;
  totp: TotpBudgetLock | null;
}

export type ReauthenticateResult = { ok: true } | { ok: false; status: 400 | 401 | 429; message: string; retryAfterSeconds?: number };

/** A second-factor attempt that was counted against the limits and may now check its secret. */
export interface SecondFactorAttempt {
  kind: 'ready';
  user: User;
  attempt: AllowedAttempt;
}

/**
 * The login flow's rules in one place: rate limits before any secret is checked, events for every
 * outcome, the two-factor token used up exactly when a session is about to be created, and the session
 * itself, started with its login's event. Routes (including the WebAuthn ones) call these and only
 * render the outcome (routes/session.ts puts a started session on the browser).
 */
export interface Login {
  /**
   * The password step. `deviceCookie` is the remembered-device cookie the browser sent, if any: a
   * device remembered for this account is counted as a place of its own, which no stranger can lock.
   */
  passwordStep(input: { username: string; password: string; deviceCookie?: string }, origin: RequestOrigin): Promise<PasswordStepResult>;
  /**
   * The password asked again inside a live session before a security change (ASVS V3.7.1). Counted
   * per session, never per account or address: strangers cannot stop the owner confirming a change.
   */
  reauthenticate(input: { user: User; session: SessionRow; password: string }, origin: RequestOrigin): Promise<ReauthenticateResult>;
  /** For the two-factor page: what is locked right now for this account (counts nothing). */
  secondFactorLocks(userId: string, origin: RequestOrigin): Promise<SecondFactorLocks>;
  /**
   * What a second-step page shows on arrival, in one statement: whether T is still good (checked without
   * reading the account) and what is locked. Counts nothing.
   */
  secondStepPage(token: unknown, origin: RequestOrigin): Promise<SecondStepPage>;
  /**
   * Start the session a login earned — the second-factor steps call it on success; the routes for a login that
   * needs no second factor now (no 2FA, or a remembered device) and for a registration call it themselves.
   * `user` is the row the login checked. In one transaction: the login's `account:login:success` event
   * (details.method), the session naming it, and `options.alsoInTransaction` (the recovery code's burn). The
   * session is created only while the account is still at `user`'s security epoch (sessions.ts); when the
   * password or 2FA changed meanwhile ({@link LoginOutdated}) all of it rolls back — the history never says
   * "Logged in" for a login that got no session — `account:login:stopped` is recorded instead, and the
   * answer is null. A registration records no login: its session names the `account:create` event.
   */
  startSession(
    user: User,
    grant: SessionGrant,
    origin: RequestOrigin,
    options?: { alsoInTransaction?: (trx: Kysely<Database>) => Promise<void> },
  ): Promise<StartedSession | null>;
  /**
   * The TOTP step. A code refused as already used while T itself was used up by its own login meanwhile
   * (a double submit of that login) is no failure: it answers `token-problem` `used` and counts nothing.
   */
  totpStep(input: { token: unknown; code: string }, origin: RequestOrigin): Promise<SecondFactorResult>;
  /** The recovery-code step; a double submit answers as in {@link Login.totpStep}. */
  recoveryCodeStep(input: { token: unknown; code: string }, origin: RequestOrigin): Promise<SecondFactorResult>;
  /** For a step that checks no secret (WebAuthn options): T still valid and the user/IP not locked out, in one statement. Counts nothing. */
  beginSecondFactor(token: unknown, origin: RequestOrigin): Promise<SecondFactorGate>;
  /** Before checking a second factor's secret: T still valid, and this attempt counted against the limits first. */
  attemptSecondFactor(token: unknown, origin: RequestOrigin): Promise<SecondFactorAttempt | Exclude<SecondFactorGate, { kind: 'ready' }>>;
  /** Record a failed second factor (already counted); returns the message to show (the lock-out message once locked). */
  failSecondFactor(
    gate: SecondFactorAttempt,
    method: LoginMethod,
    origin: RequestOrigin,
    message: string,
  ): Promise<Extract<SecondFactorResult, { kind: 'invalid' | 'blocked' }>>;
  /** The same for a failure whose event the caller already recorded (security keys record why they were refused). */
  countSecondFactorFailure(
    gate: SecondFactorAttempt,
    origin: RequestOrigin,
    message: string,
  ): Promise<Extract<SecondFactorResult, { kind: 'invalid' | 'blocked' }>>;
  /** The attempt tested no secret (malformed input): give it back to the limits. */
  withdrawSecondFactor(gate: SecondFactorAttempt, origin: RequestOrigin): Promise<void>;
  /**
   * The second factor was right: burn T (exactly once), start the session with its login event, give the
   * attempt back. When T went to another request of the same login meanwhile (a double submit), the attempt
   * is given back too: a right factor is no failure, whichever request logs in.
   */
  completeSecondFactor(gate: SecondFactorAttempt, token: unknown, method: LoginMethod, origin: RequestOrigin): Promise<SecondFactorResult>;
}

const WRONG_PASSWORD = 'The username or password is incorrect.';

const TOTP_REFUSED =
  'Too many wrong authentication-app codes have been tried on this account, so codes from the app are refused for now (someone may know your password).';

/**
 * The year's TOTP budget is spent, as this service says it: it does not know which other factors the account
 * has, so it names none. The two-factor page, which does, shows {@link totpBudgetSpent} in its place (told by
 * the lock's `reason`, {@link TotpBudgetLock}); its "Lost your device?" part says what is left without any,
 * with the administrators' contact (views/help.tsx, LockedOutHelp): not said here too.
 */
const TOTP_BUDGET_SPENT = `${TOTP_REFUSED} Log in another way if you have one, then change your password.`;

/** The short window's pause on every second factor, and how it is said. */
function pauseFor(retryAfterMs: number): SecondFactorPause {
  return { reason: 'paused', message: rateLimitMessage(retryAfterMs), retryAfterSeconds: Math.ceil(retryAfterMs / 1000) };
}

/** A fresh {@link TotpBudgetLock} for each answer: callers get objects of their own. */
const totpBudgetLock = (): TotpBudgetLock => ({ reason: 'totp-budget-spent', message: TOTP_BUDGET_SPENT });

/**
 * {@link TOTP_BUDGET_SPENT} for an account whose factors are known: a security key only when it has one (telling
 * an account without one to use a key sent its owner looking for something it never had). Whether a recovery
 * code is left is not read on the login's way (one more statement for every two-factor page), hence "if".
 */
export function totpBudgetSpent({ hasSecurityKey }: { hasSecurityKey: boolean }): string {
  return hasSecurityKey
    ? `${TOTP_REFUSED} Use your security key (or a recovery code if you have one left), then change your password.`
    : `${TOTP_REFUSED} Use a recovery code if you have one left, then change your password.`;
}

/** "N attempts left" before the short lock: said with every wrong second factor (issue 17 point 9). */
function attemptsLeft({ remaining, pauseMs }: AllowedAttempt): string {
  const minutes = Math.max(1, Math.round(pauseMs / 60_000));
  return `${remaining} attempt${remaining === 1 ? '' : 's'} left before two-factor login is paused for ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

export function createLogin(deps: {
  db: Kysely<Database>;
  sessions: Sessions;
  accounts: Accounts;
  events: Events;
  loginTokens: LoginTokens;
  rateLimits: RateLimits;
  totp: Totp;
  recoveryCodes: RecoveryCodes;
  rememberedDevices: RememberedDevices;
  totpGuessBudget: TotpGuessBudget;
}): Login {
  const { db, sessions, accounts, events, loginTokens, rateLimits, totp, recoveryCodes, rememberedDevices, totpGuessBudget } = deps;

  const blocked = (retryAfterMs: number) =>
    ({ kind: 'blocked', status: 429, message: rateLimitMessage(retryAfterMs), retryAfterSeconds: Math.ceil(retryAfterMs / 1000) }) as const;
  /** A refusal of the second step's short window: every method is paused. */
  const paused = (retryAfterMs: number) => ({ kind: 'blocked', status: 429, ...pauseFor(retryAfterMs) }) as const;
  const tokenProblem = (problem: LoginTokenProblem) => ({ kind: 'token-problem', status: 400, problem, message: LOGIN_TOKEN_MESSAGES[problem] }) as const;

  /** A counted attempt failed: when it was the last one allowed, the lock-out starts now — record and say so. */
  const afterFailure = async (attempt: AllowedAttempt, userId: string | null, step: 'password' | 'second-factor' | 'reauthenticate', origin: RequestOrigin) => {
    if (!attempt.lastAllowed) return null;
    if (userId && attempt.lastAllowed.reason === 'account') await events.record({ userId, tag: EVENT_TAGS.lockout, origin, details: { step } });
    return blocked(attempt.lastAllowed.retryAfterMs);
  };

  /**
   * The second factor was right and T is used up: start the session (with the login's event, and
   * `alsoInTransaction`), then give the attempt back and forget the failures. A login stopped there
   * (the account changed meanwhile) succeeded at nothing, so it forgets no failure; its factor was not
   * wrong either, so its attempt is given back.
   */
  const succeed = async (
    user: User,
    method: LoginMethod,
    origin: RequestOrigin,
    alsoInTransaction?: (trx: Kysely<Database>) => Promise<void>,
  ): Promise<Extract<SecondFactorResult, { kind: 'success' | 'stopped' }>> => {
    const subject = { account: user.id, ip: origin.ip };
    const started = await login.startSession(user, method, origin, alsoInTransaction ? { alsoInTransaction } : {});
    if (!started) {
      await rateLimits.refund('second-factor', subject);
      return { kind: 'stopped', status: 409, message: LOGIN_STOPPED, user };
    }
    await rateLimits.succeeded('second-factor', subject);
    return { kind: 'success', user, started };
  };

  /**
   * After a code was refused as already used: was T, which the gate found unused, used up since? Then the
   * login T belongs to completed while this request was checking its code — the same person's second
   * submission of that login, not a replay by someone else (they hold their own T, still unused). One
   * statement, only on that refusal.
   */
  const usedUpByItsOwnLogin = async (token: unknown) => {
    const tokenNow = await loginTokens.inspect(token);
    return !tokenNow.ok && tokenNow.problem === 'used';
  };

  /**
   * What is locked for `userId`, in one statement: the year's TOTP budget is read as a counter row beside the
   * short-window counters, and so are the `alsoRead` rows (returned in `also`).
   */
  const readLocks = async (userId: string, origin: RequestOrigin, alsoRead: CounterRowsPart[]) => {
    const guesses = totpGuessBudget.asCounterRow(userId);
    const { verdict, also } = await rateLimits.checkAlso('second-factor', { account: userId, ip: origin.ip }, [guesses.part, ...alsoRead]);
    const totpSpentUntil = totpGuessBudget.spentUntilFrom(also.get(guesses.key));
    const locks: SecondFactorLocks = {
      all: verdict.blocked ? pauseFor(verdict.retryAfterMs) : null,
      totp: totpSpentUntil === null ? null : totpBudgetLock(),
    };
    return { locks, also };
  };

  const login: Login = {
    async passwordStep({ username, password, deviceCookie }, origin) {
      const account = canonicalUsername(username);
      // Read first (no secret checked yet) so a remembered device can be counted as its own place.
      const user = await accounts.findByUsername(account);
      const subject = { account, ip: origin.ip, device: user ? rememberedDevices.deviceId(deviceCookie, user) : null };
      const attempt = await rateLimits.attempt('password', subject);
      if (attempt.blocked) return blocked(attempt.retryAfterMs);
      // Same argon2 work whether or not the user exists (no timing oracle for usernames).
      const valid = await accounts.verifyPassword(user, password);
      if (!user || !valid) {
        if (user) await events.record({ userId: user.id, tag: EVENT_TAGS.loginFailure, origin, details: { reason: 'password' } });
        await afterFailure(attempt, user?.id ?? null, 'password', origin);
        // Same message locked or not for unknown users too: the lock-out itself shows on the next try.
        return { kind: 'invalid', status: 401, message: WRONG_PASSWORD };
      }
      await rateLimits.succeeded('password', subject);
      return { kind: 'authenticated', user, twoFactor: await accounts.twoFactorStatus(user.id) };
    },

    async reauthenticate({ user, session, password }, origin) {
      const subject = { account: session.id, ip: origin.ip };
      // Counted before argon2 runs, so parallel guesses cannot all pass a check made before any was counted.
      const attempt = await rateLimits.attempt('reauthenticate', subject);
      if (attempt.blocked)
        return { ok: false, status: 429, message: rateLimitMessage(attempt.retryAfterMs), retryAfterSeconds: Math.ceil(attempt.retryAfterMs / 1000) };
      if (!(await accounts.verifyPassword(user, password))) {
        await events.record({ userId: user.id, tag: EVENT_TAGS.reauthenticateFailure, origin });
        // The owner's own session is counted, so saying that this failure started the pause reveals nothing
        // (unlike the password step, which says it only at the next try): they hear it now, not one try later.
        const paused = await afterFailure(attempt, user.id, 'reauthenticate', origin);
        if (paused) return { ok: false, status: 429, message: `That password is not correct. ${paused.message}`, retryAfterSeconds: paused.retryAfterSeconds };
        return { ok: false, status: 401, message: 'That password is not correct.' };
      }
      await rateLimits.succeeded('reauthenticate', subject);
      return { ok: true };
    },

    async startSession(user, grant, origin, { alsoInTransaction } = {}) {
      try {
        return await inTransaction(db, async (trx) => {
          const bound = events.boundTo(trx);
          // The event first: the session names it (its foreign key only key-share locks the user's row, which no
          // change of the account conflicts with). Then the session, whose insert reads the user's row at the
          // login's epoch (PostgreSQL: FOR SHARE). `alsoInTransaction` (burning a recovery code) comes last, so
          // its locks are taken after the user's row, in the order every change of the factors and the burn step
          // take theirs (the user's row, then the codes): no deadlock with one of them.
          const eventId =
            grant === 'registration'
              ? await bound.creationEvent(user.id)
              : await bound.record({ userId: user.id, tag: EVENT_TAGS.loginSuccess, origin, details: { method: grant } });
          const started = await sessions.create(user.id, { userAgent: origin.userAgent, eventId, securityEpoch: user.security_epoch }, { within: trx });
          await alsoInTransaction?.(trx);
          return started;
        });
      } catch (error) {
        if (!(error instanceof LoginOutdated)) throw error;
        // Rolled back: no session, no "Logged in", no code used. What happened is still history: the password
        // and the factor were accepted, and the login stopped (someone may be logging in as the owner changes them).
        await events.record({ userId: user.id, tag: EVENT_TAGS.loginStopped, origin, details: grant === 'registration' ? {} : { method: grant } });
        return null;
      }
    },

    async secondFactorLocks(userId, origin) {
      return (await readLocks(userId, origin, [])).locks;
    },

    async secondStepPage(token, origin) {
      const tokenRow = loginTokens.asCounterRow(token);
      if (!tokenRow.ok) return tokenRow;
      const { locks, also } = await readLocks(tokenRow.userId, origin, [tokenRow.part]);
      const problem = tokenRow.problemFrom(also.get(tokenRow.key));
      return problem ? { ok: false, problem } : { ok: true, userId: tokenRow.userId, methods: tokenRow.methods, locks };
    },

    async beginSecondFactor(token, origin) {
      // As the page: T's nonce and epoch are read beside the limits, one statement.
      const tokenRow = loginTokens.asCounterRow(token);
      if (!tokenRow.ok) return tokenProblem(tokenRow.problem);
      const { verdict, also } = await rateLimits.checkAlso('second-factor', { account: tokenRow.userId, ip: origin.ip }, [tokenRow.part]);
      const problem = tokenRow.problemFrom(also.get(tokenRow.key));
      if (problem) return tokenProblem(problem);
      if (verdict.blocked) return paused(verdict.retryAfterMs);
      return { kind: 'ready', userId: tokenRow.userId };
    },

    async attemptSecondFactor(token, origin) {
      const inspected = await loginTokens.inspect(token);
      if (!inspected.ok) return tokenProblem(inspected.problem);
      const attempt = await rateLimits.attempt('second-factor', { account: inspected.user.id, ip: origin.ip });
      if (attempt.blocked) return { ...paused(attempt.retryAfterMs), user: inspected.user };
      return { kind: 'ready', user: inspected.user, attempt };
    },

    async failSecondFactor(gate, method, origin, message) {
      await events.record({ userId: gate.user.id, tag: EVENT_TAGS.secondFactorFailure, origin, details: { method } });
      return login.countSecondFactorFailure(gate, origin, message);
    },

    async countSecondFactorFailure(gate, origin, message) {
      const lockedNow = await afterFailure(gate.attempt, gate.user.id, 'second-factor', origin);
      const refusal = lockedNow
        ? ({ ...lockedNow, reason: 'paused' } as const)
        : ({ kind: 'invalid', status: 401, message: `${message} ${attemptsLeft(gate.attempt)}` } as const);
      return { ...refusal, user: gate.user };
    },

    async withdrawSecondFactor(gate, origin) {
      await rateLimits.refund('second-factor', { account: gate.user.id, ip: origin.ip });
    },

    async completeSecondFactor(gate, token, method, origin) {
      const consumed = await loginTokens.consume(token);
      if (!consumed.ok) {
        await login.withdrawSecondFactor(gate, origin);
        return tokenProblem(consumed.problem);
      }
      return succeed(consumed.user, method, origin);
    },

    async totpStep({ token, code }, origin) {
      const gate = await login.attemptSecondFactor(token, origin);
      if (gate.kind !== 'ready') return gate;
      // The year's budget is written down before the code is checked and given back only when it
      // was right: the owner's logins never refill what an attacker spent (issue 14 point 1).
      const guess = await totpGuessBudget.take(gate.user.id);
      if (!guess.allowed) {
        // Not a failure of the short window: keys and recovery codes must stay usable.
        await login.withdrawSecondFactor(gate, origin);
        return { ...blocked(guess.retryAfterMs), ...totpBudgetLock(), user: gate.user };
      }
      // A right code spends its step and burns T in one transaction, so a request that finds the step
      // spent also sees whether T went with it (see usedUpByItsOwnLogin below).
      const burn: { result?: LoginTokenResult } = {};
      const check = await totp.verify(gate.user, code, {
        alsoInTransaction: async (trx) => {
          burn.result = await loginTokens.consume(token, { within: trx });
        },
      });
      if (check === 'replayed' && (await usedUpByItsOwnLogin(token))) {
        // A double submit (a double-click on Verify, or the extension's auto-submit plus an Enter): this
        // request passed the gate with T unused, and the same login completed with T meanwhile — in the
        // other request, with this very code, whose step and T were spent in one commit. This request
        // tested nothing anyone could use and can log nobody in (T is gone): no failure, no guess, no
        // event; it answers as any later use of a used T. A used code sent with another T, still unused
        // (someone else's login), is a replay and is refused and counted below, exactly as before: an
        // OTP is accepted only once (NIST SP 800-63B 5.1.4.2 / 5.1.5.2).
        await totpGuessBudget.giveBack(guess);
        await login.withdrawSecondFactor(gate, origin);
        return tokenProblem('used');
      }
      if (check === 'ok' || check === 'malformed' || check === 'not-enabled') await totpGuessBudget.giveBack(guess);
      else if (guess.remaining === 0) {
        // This wrong code spent the year's budget: the owner must hear of it (the e-mail outbox mails this event).
        await events.record({ userId: gate.user.id, tag: EVENT_TAGS.totpGuessBudgetSpent, origin, details: { guesses: totpGuessBudget.limit } });
      }
      switch (check) {
        case 'ok': {
          const consumed = burn.result;
          // The step stays spent when the login is stopped (it spent its code; the next one works).
          if (consumed?.ok) return succeed(consumed.user, 'totp', origin);
          // The code was right but T went to another request of the same login (or went stale): not a guess.
          await login.withdrawSecondFactor(gate, origin);
          return tokenProblem(consumed?.problem ?? 'used');
        }
        case 'malformed':
          await login.withdrawSecondFactor(gate, origin);
          return { kind: 'invalid', status: 400, message: 'Enter the 6-digit code from your authentication app.', user: gate.user };
        case 'not-enabled':
          await login.withdrawSecondFactor(gate, origin);
          return { kind: 'invalid', status: 400, message: 'Your account has no authentication app set up; use another method.', user: gate.user };
        case 'replayed':
        case 'invalid': {
          // After the code that spent the year's budget, no app code is taken: "try the current code" would send
          // the owner back to the app the page now says is refused (QA).
          const message =
            check === 'replayed'
              ? 'This code has already been used. Wait for the next code and try again.'
              : guess.remaining === 0
                ? 'Invalid code.'
                : 'Invalid code. Check your device’s clock and try the current code.';
          const refusal = await login.failSecondFactor(gate, 'totp', origin, message);
          // This request's own writes said what is locked now: the short lock starts with this failure exactly
          // when it was the last one allowed, and the year's budget is spent when no guess remained after it.
          const locks: SecondFactorLocks = {
            all: refusal.kind === 'blocked' ? { reason: 'paused', message: refusal.message, retryAfterSeconds: refusal.retryAfterSeconds } : null,
            totp: guess.remaining === 0 ? totpBudgetLock() : null,
          };
          return { ...refusal, locks };
        }
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
          if (!consumed.ok) {
            // The code was right, T went to another request of the same login (a double submit): not a failure.
            await login.withdrawSecondFactor(gate, origin);
            return tokenProblem(consumed.problem);
          }
          // The code is burnt in the session's transaction: a login stopped there (the account changed meanwhile)
          // leaves it unused, as scarce as it was. Exactly one request burns a code; one that lost that race
          // has used up its T for nothing.
          try {
            return await succeed(consumed.user, 'recovery_code', origin, async (trx) => {
              if ((await recoveryCodes.use(gate.user.id, code, origin, { within: trx })) !== 'ok') throw new RecoveryCodeTaken();
            });
          } catch (error) {
            if (!(error instanceof RecoveryCodeTaken)) throw error;
            return login.failSecondFactor(gate, 'recovery_code', origin, 'This recovery code has already been used. Each code works only once. Log in again.');
          }
        }
        case 'malformed':
          await login.withdrawSecondFactor(gate, origin);
          return { kind: 'invalid', status: 400, message: 'A recovery code is 16 characters: digits 0–9 and letters a–f.' };
        case 'used':
          // The login that burned this code uses T up first (above), so a double submit that finds its own
          // code burned also finds its T used: the same login, not a replay — withdrawn as for TOTP. A used
          // code sent with another, unused T is counted (recovery codes are single-use, NIST SP 800-63B 5.1.2.2).
          if (await usedUpByItsOwnLogin(token)) {
            await login.withdrawSecondFactor(gate, origin);
            return tokenProblem('used');
          }
          return login.failSecondFactor(gate, 'recovery_code', origin, 'This recovery code has already been used. Each code works only once.');
        case 'invalid':
          return login.failSecondFactor(gate, 'recovery_code', origin, 'Invalid recovery code.');
      }
    },
  };
  return login;
}

/** Thrown in a login's session transaction when another request burnt its recovery code first: rolls the session back. */
class RecoveryCodeTaken extends Error {
  override name = 'RecoveryCodeTaken';
}
