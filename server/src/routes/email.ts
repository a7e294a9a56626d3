import type { Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { EMAIL_MAX_LENGTH } from '../services/accounts.js';
import { EMAIL_TOKEN_PROBLEMS, type EmailAddress, NOT_ON_ACCOUNT } from '../services/emails.js';
import { ServiceError } from '../services/errors.js';
import type { Services } from '../services/index.js';
import { VerificationMailCapped } from '../services/verification-mail-cap.js';
import { AddEmailPage, ConfirmAddressActionPage, EMAIL_ACTIONS, EMAIL_SECTION_ID, EmailProblemPage } from '../views/email-addresses-section.js';
import {
  answeredHeadUnchanged,
  currentUser,
  formSchema,
  handler,
  keepValues,
  optionalTextField,
  pageContext,
  parseForm,
  queryValue,
  requestOrigin,
  sendPage,
  setRetryAfter,
} from './http.js';
import { reauthenticate, requireUser } from './session.js';

const EMAIL_FORM = formSchema({
  [FIELDS.emailAction]: z.enum(Object.values(EMAIL_ACTIONS) as [string, ...string[]], { error: 'Choose what to do with the address.' }),
  [FIELDS.email]: optionalTextField('the e-mail address', EMAIL_MAX_LENGTH),
  [FIELDS.emailId]: optionalTextField('the address', 20),
  [FIELDS.password]: optionalTextField('your password', 1024, { keepControlCharacters: true }),
});

const BACK_TO_ADDRESSES = `${ROUTES.manageAccount}#${EMAIL_SECTION_ID}`;

/**
 * Why this account may not add a second factor now, or null: the first one needs a verified primary
 * address (DESIGN.md section 2, as on pypi.org); accounts that already have 2FA (e.g. from before
 * migration 005) keep adding and removing methods as before.
 */
export async function firstFactorRefusal(services: Services, userId: string): Promise<ServiceError | null> {
  if ((await services.accounts.twoFactorStatus(userId)).enabled) return null;
  try {
    await services.emails.requireVerifiedPrimary(userId);
    return null;
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
}

/** {@link firstFactorRefusal} as a page with the way forward; true when it answered (the caller stops). */
export async function refuseWithoutVerifiedPrimary(res: Response, services: Services, userId: string): Promise<boolean> {
  const refusal = await firstFactorRefusal(services, userId);
  if (!refusal) return false;
  sendPage(res, refusal.status, EmailProblemPage({ page: pageContext(res), title: 'Verify your e-mail address first', message: refusal.message }));
  return true;
}

/** `/account/verify-email/` (the link in the message) and `/manage/account/email` (address management). */
export function emailRoutes(services: Services): Router {
  const router = Router();

  // Logged in only, as on pypi.org: the link proves the address, the session proves the account; a link
  // opened while logged out comes back here after the login (`next`).
  router.get(
    ROUTES.verifyEmail,
    requireUser(),
    handler(async (req, res) => {
      // A logged-in HEAD for the link verified the address, and the person's own click then said "already verified" (409).
      if (answeredHeadUnchanged(req, res)) return;
      const { user, session } = currentUser(res);
      const result = await services.emails.verify(queryValue(req, 'token'), user.id, requestOrigin(req));
      // The token is in the URL: keep it out of any Referer this page could send (same-origin policy already) and out of caches.
      res.set('Cache-Control', 'no-store');
      if (!result.ok) {
        const problem = EMAIL_TOKEN_PROBLEMS[result.problem];
        return sendPage(res, problem.status, EmailProblemPage({ page: pageContext(res), title: problem.title, message: problem.message }));
      }
      await services.sessions.setFlash(session.id, { kind: 'success', text: `Thank you: ${result.email} is verified.` });
      res.redirect(303, BACK_TO_ADDRESSES);
    }),
  );

  router.post(
    ROUTES.manageEmail,
    requireUser(),
    handler(async (req, res) => {
      const { user, session } = currentUser(res);
      const origin = requestOrigin(req);
      const form = parseForm(req, EMAIL_FORM);
      // The heading says what did not happen (the action as posted, so a malformed field of a resend is titled as
      // one): a refused "Resend link" changes no address, it sends no link.
      const posted = ((req.body ?? {}) as Record<string, unknown>)[FIELDS.emailAction];
      const title = posted === EMAIL_ACTIONS.resend ? 'No link sent' : posted === EMAIL_ACTIONS.add ? 'Address not added' : 'Address not changed';
      const problem = (status: number, message: string) => sendPage(res, status, EmailProblemPage({ page: pageContext(res), title, message }));
      /** The add form again, the address kept, its error on its field. */
      const addFormAgain = (status: number, errors: { email?: string; password?: string }) =>
        sendPage(
          res,
          status,
          AddEmailPage({
            page: pageContext(res),
            // Read at render time: a password confirmed earlier in this request has opened the window again.
            recentlyAuthenticated: services.sessions.isRecentlyAuthenticated(currentUser(res).session),
            value: keepValues(req, [FIELDS.email])[FIELDS.email] ?? '',
            error: errors.email,
            passwordError: errors.password,
          }),
        );
      if (!form.ok) {
        const emailError = form.fieldErrors[FIELDS.email];
        if (emailError) return addFormAgain(400, { email: emailError });
        return problem(400, Object.values(form.fieldErrors)[0] ?? 'The form was not complete.');
      }
      const action = form.data[FIELDS.emailAction];
      /** A service's refusal: on the add form when adding, else as a problem page. */
      const refused = (error: ServiceError) => {
        // The address's verification mails are capped (services/verification-mail-cap.ts): when to come back.
        if (error instanceof VerificationMailCapped) res.set('Retry-After', String(error.retryAfterSeconds));
        return action === EMAIL_ACTIONS.add ? addFormAgain(error.status, { email: error.message }) : problem(error.status, error.message);
      };
      const emailId = Number(form.data[FIELDS.emailId]);
      /** The address `emailId` as the account has it now; 400 or 404 in the service's words for an id that is not one of its addresses. */
      const addressOnAccount = async () => {
        if (!Number.isSafeInteger(emailId) || emailId <= 0) throw new ServiceError('Choose one of your addresses.', 400);
        const address = (await services.emails.list(user.id)).find((candidate) => candidate.id === emailId);
        if (!address) throw new ServiceError(NOT_ON_ACCOUNT, 404);
        return address;
      };
      /**
       * Re-authentication for "make primary" and for removing a verified address (ASVS V3.7.1): true within the
       * 5-minute window or with the right password posted, the change goes ahead. Else the confirmation page
       * answered (the caller stops): without a password it is the step itself (200, no error), with a wrong one
       * it comes back with the error.
       */
      const confirmed = async (address: EmailAddress, confirming: typeof EMAIL_ACTIONS.makePrimary | typeof EMAIL_ACTIONS.remove) => {
        const password = form.data[FIELDS.password];
        const reauth = await reauthenticate(req, res, services, password);
        if (reauth.ok) return true;
        const asked = password !== '';
        sendPage(
          res,
          asked ? reauth.status : 200,
          ConfirmAddressActionPage({ page: pageContext(res), action: confirming, address, error: asked ? reauth.message : undefined }),
        );
        return false;
      };
      if (action === EMAIL_ACTIONS.add) {
        // A verified address receives password-reset links: re-authentication first (ASVS V3.7.1), or a
        // stolen session could add its own address, verify it and reset the password it never knew.
        const password = form.data[FIELDS.password];
        const reauth = await reauthenticate(req, res, services, password);
        // No password sent: the window closed since the page was loaded; the form asks for it, no error yet.
        if (!reauth.ok) return addFormAgain(password === '' ? 200 : reauth.status, password === '' ? {} : { password: reauth.message });
      }
      if (action === EMAIL_ACTIONS.add || action === EMAIL_ACTIONS.resend) {
        // Each of these mails a link: limited per account, per network and overall (ASVS V2.2.1, V11.1.4).
        // Checked first, counted only then: a typo or an address already there sends nothing, so it must
        // not use up the hour's allowance (QA finding 3: three typos locked a new user out for an hour). Should
        // other requests fill the mailbox's cap between this check and `add`/`resend`, the count is given back below.
        try {
          await services.emails.checkMailable(user.id, action === EMAIL_ACTIONS.add ? { add: form.data[FIELDS.email] } : { resend: emailId }, origin);
        } catch (error) {
          if (!(error instanceof ServiceError)) throw error;
          return refused(error);
        }
        const verdict = await services.requestLimits.take('verification-resend', { ip: origin.ip, subject: user.id });
        if (verdict.kind === 'blocked') {
          setRetryAfter(res, verdict);
          return problem(verdict.status, `No e-mail sent. ${verdict.message}`);
        }
      }
      try {
        switch (action) {
          case EMAIL_ACTIONS.add: {
            const added = await services.emails.add(user.id, form.data[FIELDS.email], origin);
            await services.sessions.setFlash(session.id, {
              kind: 'success',
              text: `We sent a verification link to ${added.email}. Open it while logged in to finish adding the address.`,
            });
            break;
          }
          case EMAIL_ACTIONS.resend: {
            const address = await services.emails.resend(user.id, emailId, origin);
            await services.sessions.setFlash(session.id, {
              kind: 'success',
              text: `A new verification link is on its way to ${address.email}. Older links no longer work.`,
            });
            break;
          }
          case EMAIL_ACTIONS.makePrimary: {
            const address = await addressOnAccount();
            // Moves where security notices go: re-authentication first (ASVS V3.7.1).
            if (!(await confirmed(address, EMAIL_ACTIONS.makePrimary))) return;
            await services.emails.makePrimary(user.id, emailId, origin);
            await services.sessions.setFlash(session.id, {
              kind: 'success',
              text: `${address.email} is now your primary address. Your previous primary address was told.`,
            });
            break;
          }
          case EMAIL_ACTIONS.remove: {
            const address = await addressOnAccount();
            // A verified address receives password-reset links and is how the owner gets back in: removing one is
            // re-authenticated as "make primary" is (OWASP ASVS 4.0 V3.7.1; Warehouse's `delete_email` view has
            // `require_reauth`), or a stolen session could strip the account's recovery addresses. An unverified
            // one (a typo being undone) never received anything and is removed without the password; should it
            // be verified in the meantime by a session outside the window, the service refuses (`unverifiedOnly`)
            // rather than remove it unasked. The primary address is refused by the service (400), no password asked.
            const needsPassword = address.verified && !address.primary;
            if (needsPassword && !(await confirmed(address, EMAIL_ACTIONS.remove))) return;
            const unverifiedOnly = !needsPassword && !services.sessions.isRecentlyAuthenticated(session);
            const removed = await services.emails.remove(user.id, emailId, origin, { unverifiedOnly });
            await services.sessions.setFlash(session.id, { kind: 'success', text: `${removed.email} was removed from your account.` });
            break;
          }
        }
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        // The mailbox's cap filled after `checkMailable` (others' requests in between): no mail went, so the
        // account's allowance counted above is given back, as for any request refused before sending.
        if (error instanceof VerificationMailCapped && (action === EMAIL_ACTIONS.add || action === EMAIL_ACTIONS.resend)) {
          await services.requestLimits.giveBack('verification-resend', { ip: origin.ip, subject: user.id });
        }
        return refused(error);
      }
      res.redirect(303, BACK_TO_ADDRESSES);
    }),
  );

  return router;
}
