import type { Request, Response } from 'express';
import { Router } from 'express';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { User } from '../db/schema.js';
import type { Services } from '../services/index.js';
import { type SecondFactorLock, type SecondFactorLocks, totpBudgetSpent } from '../services/login.js';
import { LOGIN_TOKEN_MESSAGES, type LoginTokenProblem, type SecondStepMethods } from '../services/login-tokens.js';
import { MessagePage } from '../views/message-page.js';
import { RecoveryCodeLoginPage } from '../views/recovery-code-login-page.js';
import { TwoFactorPage } from '../views/two-factor-page.js';
import { WEBAUTHN_SCRIPTS } from '../views/webauthn-dom.js';
import { formSchema, handler, setRetryAfter, pageContext, parseForm, queryValue, requestOrigin, sendPage, textField } from './http.js';
import { enterSession, loginDestination, rememberDeviceChosen } from './session.js';

const TOTP_FORM = formSchema({ [FIELDS.totpValue]: textField('the 6-digit code from your authentication app', 64) });
const RECOVERY_CODE_FORM = formSchema({ [FIELDS.recoveryCodeValue]: textField('a recovery code', 64) });

/** The query string of a second-step page, rebuilt from validated parts (`?token=…&next=…`). */
export function twoFactorQuery(req: Request): string {
  const query = new URLSearchParams();
  const token = queryValue(req, FIELDS.twoFactorToken);
  const next = queryValue(req, FIELDS.next);
  if (token) query.set(FIELDS.twoFactorToken, token);
  if (next) query.set(FIELDS.next, next);
  const text = query.toString();
  return text ? `?${text}` : '';
}

/**
 * An expired, reused, stale or forged token: say which, and offer to log in again — unless this browser
 * is logged in already (e.g. Back to the two-factor page after logging in): then there is nothing to redo.
 */
export function sendTokenProblem(res: Response, problem: LoginTokenProblem): void {
  const page = pageContext(res);
  if (page.username) {
    const message = `You are already logged in as ${page.username}: this login link is no longer needed.`;
    return sendPage(res, 200, MessagePage({ page, title: 'Already logged in', message, tone: 'success' }));
  }
  sendPage(res, 400, MessagePage({ page, title: 'Log in again', message: LOGIN_TOKEN_MESSAGES[problem], loginAgain: true }));
}

/**
 * A lock's sentence on the two-factor page, chosen by its kind: the app's lock (the year's budget spent) said for
 * this account's factors, which the service's sentence cannot name; any other as the service says it. By kind, not
 * by comparing the service's words: rewording them must not bring its factor-less sentence back to this page.
 */
function lockSentence(lock: Pick<SecondFactorLock, 'reason' | 'message'>, factors: { hasSecurityKey: boolean }): string {
  switch (lock.reason) {
    case 'totp-budget-spent':
      return totpBudgetSpent(factors);
    case 'paused':
      return lock.message;
  }
}

/** Second login step: TOTP and recovery code (the security-key step lives in routes/webauthn.ts). */
export function twoFactorRoutes(services: Services): Router {
  const router = Router();

  /**
   * The second-step page; `refusal` is the lock that refused the code just sent, if one did. After a refusal,
   * `known` holds what the step just read: the token's account and, when the step learnt them, the locks.
   * Without it, one statement checks the token and reads the locks.
   */
  const renderTwoFactor = async (
    req: Request,
    res: Response,
    status: number,
    refusal: Pick<SecondFactorLock, 'reason' | 'message'> | null = null,
    known: { user?: User | undefined; locks?: SecondFactorLocks | undefined } = {},
    /** The refusal is about the code typed (not a lock): said on the code field too, which is marked invalid. */
    codeError?: string,
  ) => {
    const token = queryValue(req, FIELDS.twoFactorToken);
    const origin = requestOrigin(req);
    let userId: string;
    // The factors come with T (signed, and T is stale once they change); older tokens do not carry them.
    let carried: SecondStepMethods | null;
    let knownLocks = known.locks;
    if (known.user) {
      userId = known.user.id;
      carried = services.loginTokens.methods(token);
    } else {
      const arrival = await services.login.secondStepPage(token, origin);
      if (!arrival.ok) return sendTokenProblem(res, arrival.problem);
      ({ userId, methods: carried, locks: knownLocks } = arrival);
    }
    // What is locked is read each time: it is said on arrival, before any code is sent (issue 17 point 9).
    const [methods, locks, recoveryCodesLeft] = await Promise.all([
      carried ?? services.accounts.twoFactorStatus(userId),
      knownLocks ?? services.login.secondFactorLocks(userId, origin),
      // Read each time too (not carried in T): a code used in another tab since the password step counts.
      services.recoveryCodes.remaining(userId),
    ]);
    if (locks.all && !res.get('Retry-After')) res.set('Retry-After', String(locks.all.retryAfterSeconds));
    // The sentences are chosen here, where the factors are known, so the page only puts them in.
    const shownErrors = refusal ? [lockSentence(refusal, methods)] : [];
    const totpLock = locks.totp ? lockSentence(locks.totp, methods) : null;
    sendPage(res, status, TwoFactorPage, {
      page: pageContext(res),
      hasTotp: methods.hasTotp,
      hasSecurityKey: methods.hasSecurityKey,
      hasRecoveryCodes: recoveryCodesLeft > 0,
      query: twoFactorQuery(req),
      // A pause that refused the code (or that this refusal started) is said by the refusal: once. By kind, as the
      // locks are read a statement later and their "try again in N minutes" may round to another minute.
      form: {
        errors: locks.all && refusal?.reason !== 'paused' ? [...shownErrors, locks.all.message] : shownErrors,
        // The summary lists field errors too, so the message is said even when the code form is not offered any more.
        ...(codeError !== undefined ? { fieldErrors: { [FIELDS.totpValue]: codeError } } : {}),
      },
      scripts: methods.hasSecurityKey && !locks.all ? [WEBAUTHN_SCRIPTS.authenticate] : [],
      // A code refused because the app is locked says so among the errors: not again in the app's part.
      locks: { all: locks.all?.message ?? null, totp: totpLock, totpInErrors: totpLock !== null && refusal?.reason === 'totp-budget-spent' },
      support: services.config.supportContact ?? null,
    });
  };

  router.get(
    ROUTES.twoFactor,
    handler((req, res) => renderTwoFactor(req, res, 200)),
  );

  router.post(
    ROUTES.twoFactor,
    handler(async (req, res) => {
      const form = parseForm(req, TOTP_FORM);
      if (!form.ok) return renderTwoFactor(req, res, 400, null, {}, form.fieldErrors[FIELDS.totpValue] ?? Object.values(form.fieldErrors)[0]);
      const result = await services.login.totpStep({ token: queryValue(req, FIELDS.twoFactorToken), code: form.data[FIELDS.totpValue] }, requestOrigin(req));
      if (result.kind === 'token-problem') return sendTokenProblem(res, result.problem);
      if (result.kind === 'blocked' || result.kind === 'invalid') {
        setRetryAfter(res, result);
        // A wrong or malformed code is the field's; a lock-out (or the year's budget spent) is the page's.
        if (result.kind === 'invalid') return renderTwoFactor(req, res, result.status, null, result, result.message);
        return renderTwoFactor(req, res, result.status, result, result);
      }
      // Logged in, or stopped (the account changed meanwhile): loginDestination then says so on the login page.
      await enterSession(res, services, result, { rememberDevice: rememberDeviceChosen(req) });
      res.redirect(303, loginDestination(req));
    }),
  );

  const renderRecovery = async (req: Request, res: Response, status: number, errors: string[] = []) => {
    const arrival = await services.login.secondStepPage(queryValue(req, FIELDS.twoFactorToken), requestOrigin(req));
    if (!arrival.ok) return sendTokenProblem(res, arrival.problem);
    // Locked: say so on arrival, not only after a code is typed (issue 17 point 9).
    const { all } = arrival.locks;
    const shown = all && !errors.includes(all.message) ? [...errors, all.message] : errors;
    sendPage(
      res,
      status,
      RecoveryCodeLoginPage({ page: pageContext(res), query: twoFactorQuery(req), form: { errors: shown }, support: services.config.supportContact ?? null }),
    );
  };

  router.get(
    ROUTES.recoveryCode,
    handler((req, res) => renderRecovery(req, res, 200)),
  );

  router.post(
    ROUTES.recoveryCode,
    handler(async (req, res) => {
      const form = parseForm(req, RECOVERY_CODE_FORM);
      if (!form.ok) return renderRecovery(req, res, 400, Object.values(form.fieldErrors));
      const result = await services.login.recoveryCodeStep(
        { token: queryValue(req, FIELDS.twoFactorToken), code: form.data[FIELDS.recoveryCodeValue] },
        requestOrigin(req),
      );
      if (result.kind === 'token-problem') return sendTokenProblem(res, result.problem);
      if (result.kind === 'blocked' || result.kind === 'invalid') {
        setRetryAfter(res, result);
        return renderRecovery(req, res, result.status, [result.message]);
      }
      // Stopped (the account changed meanwhile): the code was not used up, and loginDestination says why.
      if (!(await enterSession(res, services, result, { rememberDevice: rememberDeviceChosen(req) }))) return res.redirect(303, loginDestination(req));
      const remaining = await services.recoveryCodes.remaining(result.user.id);
      const session = res.locals.state.session;
      if (session) {
        await services.sessions.setFlash(session.id, {
          kind: 'warning',
          text:
            `You logged in with a recovery code; it cannot be used again. ${remaining} recovery code${remaining === 1 ? '' : 's'} left. ` +
            'If you lost your authentication app or security key, set up a new one and generate new recovery codes now.',
        });
      }
      res.redirect(303, loginDestination(req));
    }),
  );

  return router;
}
