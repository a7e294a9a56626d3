import type { Response } from 'express';
import { Router } from 'express';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH } from '../services/accounts.js';
import { ServiceError } from '../services/errors.js';
import type { Services } from '../services/index.js';
import { PASSWORD_RESET_TTL_MS, type ResetTokenProblem } from '../services/password-resets.js';
import { ChangePasswordPage } from '../views/change-password-page.js';
import { MessagePage } from '../views/message-page.js';
import { RequestPasswordResetPage, ResetPasswordDonePage, ResetPasswordPage } from '../views/password-reset-pages.js';
import { PASSWORD_ROUTES, USERNAME_OR_EMAIL } from '../views/password-routes.js';
import {
  currentUser,
  formSchema,
  handler,
  keepValues,
  pageContext,
  parseForm,
  queryValue,
  requestOrigin,
  sendPage,
  setRetryAfter,
  state,
  textField,
} from './http.js';
import { checkPassword, renewAnonymousToken, requireUser } from './session.js';

const NEW_PASSWORD_FIELDS = {
  [FIELDS.newPassword]: textField('a new password', PASSWORD_MAX_LENGTH),
  [FIELDS.passwordConfirm]: textField('the new password again to confirm it', PASSWORD_MAX_LENGTH),
};
const CHANGE_FORM = formSchema({
  [FIELDS.password]: textField('your current password', 1024, undefined, { keepControlCharacters: true }),
  ...NEW_PASSWORD_FIELDS,
});
const RESET_FORM = formSchema(NEW_PASSWORD_FIELDS);
const REQUEST_FORM = formSchema({ [USERNAME_OR_EMAIL]: textField('your username or e-mail address', EMAIL_MAX_LENGTH) });

const MISMATCH = { [FIELDS.passwordConfirm]: 'The two new passwords do not match.' };

/** Each bad reset link gets its own status, words and way forward (issue 13 item 7). */
const RESET_LINK_PROBLEMS: Record<ResetTokenProblem | 'other-account', { status: number; title: string; message: string }> = {
  missing: {
    status: 400,
    title: 'Reset link incomplete',
    message: 'This address has no reset token. Open the link from the e-mail again, or request a new one.',
  },
  malformed: {
    status: 400,
    title: 'Reset link damaged',
    message: 'This reset link is incomplete or damaged — mail programs sometimes break long links. Copy the whole link from the e-mail, or request a new one.',
  },
  forged: { status: 400, title: 'Reset link not valid', message: 'This reset link was not issued by this site for an existing account. Request a new link.' },
  expired: { status: 410, title: 'Reset link expired', message: 'Reset links work for one hour, and this one has expired. Request a new link.' },
  used: {
    status: 410,
    title: 'Reset link already used',
    message: 'This reset link was already used to set a new password, and works only once. Log in with that password, or request a new link.',
  },
  stale: {
    status: 409,
    title: 'Password changed since this link was sent',
    message:
      'The password of this account was changed after the link was sent, so the link no longer works. Log in with the current password, or request a new link.',
  },
  'logged-in': {
    status: 409,
    title: 'Logged in since this link was sent',
    message:
      'Someone logged in to this account after the link was sent, so the link no longer works: a reset link is only needed while you cannot log in. If that was you, change your password from your account page; otherwise request a new link.',
  },
  'address-removed': {
    status: 410,
    title: 'Address removed since this link was sent',
    message: 'The e-mail address this link was sent to was removed from the account after the link was sent, so the link no longer works. Request a new link.',
  },
  'other-account': {
    status: 409,
    title: 'This reset link is for another account',
    message: 'You are logged in to a different account than the one this link resets. Log out first (top of the page), then open the link again.',
  },
};

/** Password change (logged in) and reset by mailed link (issue 13 items 4 and 5; DESIGN.md section 2). */
export function passwordRoutes(services: Services): Router {
  const router = Router();
  router.use(PASSWORD_ROUTES.changePassword, requireUser());

  router.get(PASSWORD_ROUTES.changePassword, (_req, res) => sendPage(res, 200, ChangePasswordPage({ page: pageContext(res) })));

  router.post(
    PASSWORD_ROUTES.changePassword,
    handler(async (req, res) => {
      const { user, session } = currentUser(res);
      const again = (status: number, fieldErrors: Record<string, string>) =>
        sendPage(res, status, ChangePasswordPage({ page: pageContext(res), form: { fieldErrors } }));
      const form = parseForm(req, CHANGE_FORM);
      if (!form.ok) return again(400, form.fieldErrors);
      const { [FIELDS.password]: current, [FIELDS.newPassword]: next, [FIELDS.passwordConfirm]: confirm } = form.data;
      if (next !== confirm) return again(400, MISMATCH);
      if (next === current) return again(400, { [FIELDS.newPassword]: 'The new password must differ from the current one.' });
      // ASVS V2.1.6: changing the password needs the current one — always, not only when the login is old.
      // Counted against the password limit like a login (a stolen session must not become a guessing oracle).
      const check = await checkPassword(req, res, services, current);
      if (!check.ok) return again(check.status, { [FIELDS.password]: check.message });
      let ended: number;
      try {
        ({ sessionsEnded: ended } = await services.passwordChanges.setPassword(user.id, next, {
          reason: 'change',
          keepSessionId: session.id,
          origin: requestOrigin(req),
          // The hash `current` was just checked against: a reset committed since wins, this change does not.
          expectedPasswordHash: user.password_hash,
        }));
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        return again(error.status, { [error.field ?? FIELDS.newPassword]: error.message });
      }
      await services.sessions.setFlash(session.id, {
        kind: 'success',
        text: `Password changed. ${ended === 1 ? '1 other session was' : `${ended} other sessions were`} logged out, and remembered devices were forgotten.`,
      });
      res.redirect(303, ROUTES.manageAccount);
    }),
  );

  router.get(PASSWORD_ROUTES.requestPasswordReset, (_req, res) => sendPage(res, 200, RequestPasswordResetPage({ page: pageContext(res) })));

  router.post(
    PASSWORD_ROUTES.requestPasswordReset,
    handler(async (req, res) => {
      const form = parseForm(req, REQUEST_FORM);
      if (!form.ok) {
        return sendPage(
          res,
          400,
          RequestPasswordResetPage({ page: pageContext(res), form: { values: keepValues(req, [USERNAME_OR_EMAIL]), fieldErrors: form.fieldErrors } }),
        );
      }
      // Limited per client address block and per account (the service counts it, see PasswordResets.request).
      // The same words, status and (by the service's time floor) time whether or not an account matched.
      const limit = await services.passwordResets.request(form.data[USERNAME_OR_EMAIL], requestOrigin(req));
      if (limit.kind === 'blocked') {
        setRetryAfter(res, limit);
        return sendPage(
          res,
          limit.status,
          RequestPasswordResetPage({ page: pageContext(res), form: { values: keepValues(req, [USERNAME_OR_EMAIL]), errors: [limit.message] } }),
        );
      }
      sendPage(res, 200, RequestPasswordResetPage({ page: pageContext(res), sent: true, hours: PASSWORD_RESET_TTL_MS / 3_600_000 }));
    }),
  );

  /** The link's problem page, or the account it resets. Logged in as someone else counts as a problem too. */
  const checkLink = async (res: Response, token: string | null) => {
    const result = await services.passwordResets.inspect(token ?? undefined);
    if (!result.ok) return { ok: false as const, problem: result.problem };
    const { user } = state(res);
    if (user && user.id !== result.user.id) return { ok: false as const, problem: 'other-account' as const };
    return result;
  };
  const sendProblem = (res: Response, problem: ResetTokenProblem | 'other-account') => {
    const { status, title, message } = RESET_LINK_PROBLEMS[problem];
    const action = problem === 'other-account' ? undefined : { href: PASSWORD_ROUTES.requestPasswordReset, label: 'Request a new reset link' };
    sendPage(res, status, MessagePage({ page: pageContext(res), title, message, action }));
  };

  router.get(
    PASSWORD_ROUTES.resetPassword,
    handler(async (req, res) => {
      const token = queryValue(req, FIELDS.twoFactorToken);
      const link = await checkLink(res, token);
      if (!link.ok) return sendProblem(res, link.problem);
      sendPage(res, 200, ResetPasswordPage({ page: pageContext(res), token: token!, username: link.user.username }));
    }),
  );

  router.post(
    PASSWORD_ROUTES.resetPassword,
    handler(async (req, res) => {
      const token = queryValue(req, FIELDS.twoFactorToken);
      const link = await checkLink(res, token);
      if (!link.ok) return sendProblem(res, link.problem);
      const again = (status: number, fieldErrors: Record<string, string>) =>
        sendPage(res, status, ResetPasswordPage({ page: pageContext(res), token: token!, username: link.user.username, form: { fieldErrors } }));
      const form = parseForm(req, RESET_FORM);
      if (!form.ok) return again(400, form.fieldErrors);
      if (form.data[FIELDS.newPassword] !== form.data[FIELDS.passwordConfirm]) return again(400, MISMATCH);
      let result;
      try {
        result = await services.passwordResets.reset(token, form.data[FIELDS.newPassword], requestOrigin(req));
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        return again(error.status, { [error.field ?? FIELDS.newPassword]: error.message });
      }
      if (!result.ok) return sendProblem(res, result.problem);
      // Every session of the account ended, this browser's too if it was logged in: start it anonymous.
      if (state(res).user) renewAnonymousToken(res, services);
      res.redirect(303, PASSWORD_ROUTES.resetPasswordDone);
    }),
  );

  router.get(PASSWORD_ROUTES.resetPasswordDone, (_req, res) => sendPage(res, 200, ResetPasswordDonePage({ page: pageContext(res) })));

  return router;
}
