import { Router } from 'express';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH } from '../services/accounts.js';
import { ServiceError } from '../services/errors.js';
import type { Services } from '../services/index.js';
import { mailableIn } from '../services/verification-mail-cap.js';
import { HomePage } from '../views/home-page.js';
import { LoginPage } from '../views/login-page.js';
import { LogoutPage } from '../views/logout-page.js';
import { MessagePage } from '../views/message-page.js';
import { REGISTER_FIELD_ORDER, RegisterPage } from '../views/register-page.js';
import {
  currentUser,
  formSchema,
  handler,
  keepValues,
  setRetryAfter,
  optionalTextField,
  pageContext,
  parseForm,
  requestOrigin,
  safeNext,
  sendPage,
  state,
  textField,
  queryValue,
} from './http.js';
import { loginUrlAfter, sessionEndedNotice } from './login-notice.js';
import { deviceCookie, renewAnonymousToken, startSession } from './session.js';

const REGISTER_FORM = formSchema({
  [FIELDS.username]: textField('a username', USERNAME_MAX_LENGTH),
  [FIELDS.email]: textField('an email address', EMAIL_MAX_LENGTH),
  [FIELDS.newPassword]: textField('a password', PASSWORD_MAX_LENGTH),
  [FIELDS.passwordConfirm]: textField('the password again to confirm it', PASSWORD_MAX_LENGTH),
});
const LOGIN_FORM = formSchema({
  [FIELDS.username]: textField('your username', 256),
  [FIELDS.password]: textField('your password', PASSWORD_MAX_LENGTH, undefined, { keepControlCharacters: true }),
  [FIELDS.next]: optionalTextField('next', 512, { keepControlCharacters: true }),
});

/** Errors in the order of the form's fields, so the summary reads top to bottom and the first one gets focus. */
function inFormOrder(fieldErrors: Record<string, string>): Record<string, string> {
  const ordered: Record<string, string> = {};
  for (const name of REGISTER_FIELD_ORDER) if (fieldErrors[name] !== undefined) ordered[name] = fieldErrors[name];
  return { ...ordered, ...fieldErrors };
}

/** The home page, register, log in (password step), log out. */
export function accountRoutes(services: Services): Router {
  const router = Router();

  router.get(ROUTES.home, (_req, res) => sendPage(res, 200, HomePage({ page: pageContext(res) })));

  router.get(ROUTES.register, (_req, res) => {
    if (state(res).user) return res.redirect(303, ROUTES.manageAccount);
    sendPage(res, 200, RegisterPage({ page: pageContext(res) }));
  });

  router.post(
    ROUTES.register,
    handler(async (req, res) => {
      // A logged-in browser's form (a tab opened before logging in, a resubmission): registering would start
      // the new account's session over this one, ending it with no logout in its history. Refused before
      // anything is counted or written; the GET sends such a browser to its account page instead.
      const loggedIn = state(res).user;
      if (loggedIn) {
        return sendPage(
          res,
          409,
          MessagePage({
            page: pageContext(res),
            title: 'You are already logged in',
            message: `You are logged in as ${loggedIn.username}, so no account was created. To create another account, log out first.`,
            action: { href: ROUTES.logout, label: 'Log out' },
          }),
        );
      }
      const keep = keepValues(req, [FIELDS.username, FIELDS.email]);
      const refuse = (status: number, fieldErrors: Record<string, string>) =>
        sendPage(res, status, RegisterPage({ page: pageContext(res), form: { values: keep, fieldErrors: inFormOrder(fieldErrors) } }));
      // Counted before any work (the "taken" lookup, argon2), whatever the outcome: probing names costs
      // an attempt too (issue 14 point 4).
      const limit = await services.requestLimits.take('register', { ip: requestOrigin(req).ip });
      if (limit.kind === 'blocked') {
        setRetryAfter(res, limit);
        return sendPage(res, limit.status, RegisterPage({ page: pageContext(res), form: { values: keep, errors: [limit.message] } }));
      }
      // Every field is checked before answering, so one round trip shows every mistake (not one at a time).
      const form = parseForm(req, REGISTER_FORM);
      const parseErrors = form.ok ? {} : form.fieldErrors;
      const body = (req.body ?? {}) as Record<string, unknown>;
      const given = (name: string) => (parseErrors[name] === undefined && typeof body[name] === 'string' ? body[name] : undefined);
      const password = given(FIELDS.newPassword);
      const problems = await services.accounts.registrationProblems({ username: given(FIELDS.username), email: given(FIELDS.email), password });
      const fieldErrors: Record<string, string> = { ...problems.fieldErrors, ...parseErrors };
      const confirm = given(FIELDS.passwordConfirm);
      if (password !== undefined && confirm !== undefined && password !== confirm) fieldErrors[FIELDS.passwordConfirm] ??= 'The two passwords do not match.';
      if (!form.ok || Object.keys(fieldErrors).length > 0) {
        // 409 only when the one problem is a taken name; anything else the visitor typed is a 400.
        const onlyServiceProblems = Object.keys(fieldErrors).length === Object.keys(problems.fieldErrors).length;
        return refuse(onlyServiceProblems ? problems.status : 400, fieldErrors);
      }
      const data = form.data;
      try {
        const user = await services.accounts.register(
          { username: data[FIELDS.username], email: data[FIELDS.email], password: data[FIELDS.newPassword] },
          requestOrigin(req),
        );
        // No link when the address's verification mails were capped (services/verification-mail-cap.ts): the
        // account exists all the same, and the page says so honestly. It tells only that this address was sent
        // several verification mails lately, which anyone can cause, never whether an account has it. The button
        // it names is the address list's "Send link" (no link was ever sent to this address).
        const [first] = await services.emails.list(user.id);
        const withheld = first !== undefined && !first.verified && first.verifySentAt === null;
        const wait = withheld ? await services.emails.verificationMailWait(first.email, requestOrigin(req).ip) : 0;
        // A brand-new account's epoch cannot have moved yet; should it have, this is a login like any other.
        if (!(await startSession(res, services, user, 'registration'))) return res.redirect(303, loginUrlAfter('changed'));
        await services.sessions.setFlash(
          currentUser(res).session.id,
          !withheld
            ? {
                kind: 'success',
                text: `Welcome! We sent a link to ${user.email}: open it while logged in to verify your address, which two-factor authentication needs.`,
              }
            : {
                kind: 'warning',
                text: `Welcome! Your account is ready, but no verification link was sent to ${user.email}: this address has been sent several verification e-mails recently, and we hold off for a while so that its mailbox cannot be flooded. Two-factor authentication needs a verified address: use “Send link” below${wait > 0 ? ` ${mailableIn(wait)}` : ''}.`,
              },
        );
        res.redirect(303, ROUTES.manageAccount);
      } catch (error) {
        // A rule the check above did not see coming (a name taken in between).
        if (!(error instanceof ServiceError)) throw error;
        refuse(error.status, error.fieldErrors);
      }
    }),
  );

  router.get(ROUTES.login, (req, res) => {
    const next = safeNext(queryValue(req, FIELDS.next));
    if (state(res).user) return res.redirect(303, next ?? ROUTES.manageAccount);
    sendPage(res, 200, LoginPage, { page: pageContext(res), next, notice: sessionEndedNotice(req, state(res).sessionEnded) });
  });

  router.post(
    ROUTES.login,
    handler(async (req, res) => {
      const next = safeNext(((req.body ?? {}) as Record<string, unknown>)[FIELDS.next]);
      const keep = keepValues(req, [FIELDS.username]);
      const form = parseForm(req, LOGIN_FORM);
      if (!form.ok) return sendPage(res, 400, LoginPage({ page: pageContext(res), next, form: { values: keep, fieldErrors: form.fieldErrors } }));
      const origin = requestOrigin(req);
      const result = await services.login.passwordStep(
        { username: form.data[FIELDS.username], password: form.data[FIELDS.password], deviceCookie: deviceCookie(req, services) },
        origin,
      );
      if (result.kind !== 'authenticated') {
        setRetryAfter(res, result);
        return sendPage(res, result.status, LoginPage, { page: pageContext(res), next, form: { values: keep, errors: [result.message] } });
      }
      const { user, twoFactor } = result;
      if (!twoFactor.enabled || (await services.rememberedDevices.isRemembered(deviceCookie(req, services), user))) {
        // False when the account changed while this login was under way: no session, and the history says the
        // login stopped instead of "Logged in" (services/login.ts startSession).
        if (!(await startSession(res, services, user, twoFactor.enabled ? 'remembered_device' : 'password'))) {
          return res.redirect(303, loginUrlAfter('changed', next));
        }
        return res.redirect(303, next ?? ROUTES.manageAccount);
      }
      const token = await services.loginTokens.issue(user, twoFactor);
      const query = new URLSearchParams({ [FIELDS.twoFactorToken]: token });
      if (next) query.set(FIELDS.next, next);
      res.redirect(303, `${ROUTES.twoFactor}?${query.toString()}`);
    }),
  );

  router.get(ROUTES.logout, (_req, res) => sendPage(res, 200, LogoutPage({ page: pageContext(res) })));

  router.post(
    ROUTES.logout,
    handler(async (req, res) => {
      const { user, session, cookieToken } = state(res);
      // The session's end and its event commit together; one already ended elsewhere records nothing more.
      if (user && session) await services.sessions.logOut(user.id, cookieToken, requestOrigin(req));
      renewAnonymousToken(res, services);
      res.redirect(303, user ? loginUrlAfter('logout') : ROUTES.login);
    }),
  );
  return router;
}
