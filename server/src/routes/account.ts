import { Router } from 'express';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH } from '../services/accounts.js';
import { ServiceError } from '../services/errors.js';
import { EVENT_TAGS } from '../services/events.js';
import type { Services } from '../services/index.js';
import { LoginPage } from '../views/login-page.js';
import { RegisterPage } from '../views/register-page.js';
import { formSchema, handler, keepValues, setRetryAfter, optionalTextField, pageContext, parseForm, requestOrigin, safeNext, sendPage, state, textField, queryValue } from './http.js';
import { deviceCookie, renewAnonymousToken, startSession } from './session.js';

const REGISTER_FORM = formSchema({
  [FIELDS.username]: textField('a username', USERNAME_MAX_LENGTH),
  [FIELDS.email]: textField('an email address', EMAIL_MAX_LENGTH),
  [FIELDS.newPassword]: textField('a password', PASSWORD_MAX_LENGTH),
  [FIELDS.passwordConfirm]: textField('the password again to confirm it', PASSWORD_MAX_LENGTH),
});
const LOGIN_FORM = formSchema({
  [FIELDS.username]: textField('your username', 256),
  [FIELDS.password]: textField('your password', 1024),
  [FIELDS.next]: optionalTextField('next', 512),
});

/** Register, log in (password step), log out. */
export function accountRoutes(services: Services): Router {
  const router = Router();

  router.get(ROUTES.register, (_req, res) => {
    if (state(res).user) return res.redirect(303, ROUTES.manageAccount);
    sendPage(res, 200, RegisterPage({ page: pageContext(res) }));
  });

  router.post(
    ROUTES.register,
    handler(async (req, res) => {
      const keep = keepValues(req, [FIELDS.username, FIELDS.email]);
      const form = parseForm(req, REGISTER_FORM);
      if (!form.ok) return sendPage(res, 400, RegisterPage({ page: pageContext(res), form: { values: keep, fieldErrors: form.fieldErrors } }));
      const data = form.data;
      if (data[FIELDS.newPassword] !== data[FIELDS.passwordConfirm]) {
        return sendPage(
          res,
          400,
          RegisterPage({ page: pageContext(res), form: { values: keep, fieldErrors: { [FIELDS.passwordConfirm]: 'The two passwords do not match.' } } }),
        );
      }
      try {
        const user = await services.accounts.register(
          { username: data[FIELDS.username], email: data[FIELDS.email], password: data[FIELDS.newPassword] },
          requestOrigin(req),
        );
        await startSession(res, services, user);
        res.redirect(303, ROUTES.manageAccount);
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        const field = error.field ?? 'form';
        sendPage(res, error.status, RegisterPage({ page: pageContext(res), form: { values: keep, fieldErrors: { [field]: error.message } } }));
      }
    }),
  );

  router.get(ROUTES.login, (req, res) => {
    const next = safeNext(queryValue(req, FIELDS.next));
    if (state(res).user) return res.redirect(303, next ?? ROUTES.manageAccount);
    sendPage(res, 200, LoginPage({ page: pageContext(res), next }));
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
        { username: form.data[FIELDS.username], password: form.data[FIELDS.password] },
        origin,
      );
      if (result.kind !== 'authenticated') {
        setRetryAfter(res, result);
        return sendPage(res, result.status, LoginPage({ page: pageContext(res), next, form: { values: keep, errors: [result.message] } }));
      }
      const { user, twoFactor } = result;
      if (!twoFactor.enabled || (await services.rememberedDevices.isRemembered(deviceCookie(req, services), user))) {
        await services.login.recordLoginSuccess(user, twoFactor.enabled ? 'remembered_device' : 'password', origin);
        await startSession(res, services, user);
        return res.redirect(303, next ?? ROUTES.manageAccount);
      }
      const token = await services.loginTokens.issue(user);
      const query = new URLSearchParams({ [FIELDS.twoFactorToken]: token });
      if (next) query.set(FIELDS.next, next);
      res.redirect(303, `${ROUTES.twoFactor}?${query.toString()}`);
    }),
  );

  router.post(
    ROUTES.logout,
    handler(async (req, res) => {
      const { user, session, cookieToken } = state(res);
      if (user && session) {
        await services.sessions.destroy(cookieToken);
        await services.events.record({ userId: user.id, tag: EVENT_TAGS.logout, origin: requestOrigin(req) });
      }
      renewAnonymousToken(res, services);
      res.redirect(303, ROUTES.login);
    }),
  );
  return router;
}
