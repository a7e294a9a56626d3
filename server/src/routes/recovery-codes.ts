import type { Request, Response } from 'express';
import { Router } from 'express';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { inTransaction } from '../db/in-transaction.js';
import type { RecoveryCodeCheck } from '../services/recovery-codes.js';
import type { Services } from '../services/index.js';
import type { PendingShowingOccasion } from '../services/sessions.js';
import { CONFIRM_TEXT } from '../views/account-page.js';
import { CONFIRM_FIELD } from '../views/layout.js';
import { MessagePage } from '../views/message-page.js';
import { RecoveryCodesPage } from '../views/recovery-codes-page.js';
import { RECOVERY_CODE_ROUTES } from '../views/recovery-code-routes.js';
import { RecoveryCodesVerifyPage } from '../views/recovery-codes-verify-page.js';
import { answeredHeadUnchanged, currentUser, formSchema, handler, pageContext, parseForm, queryValue, requestOrigin, sendPage, textField } from './http.js';
import { confirmed, passwordFrom, renderAccountPage } from './manage.js';
import { reauthenticate, requireUser } from './session.js';

/** Thrown inside the generating transaction to roll it back: the account has no second factor (left). */
class NoSecondFactor extends Error {}

/** The query parameter carrying the one-time nonce from the generate redirect to the one showing. */
export const SHOW_NONCE_PARAM = 'show';

const VERIFY_FORM = formSchema({
  [FIELDS.recoveryCodeValue]: textField('one of your new recovery codes', 64),
});

/** Messages for a code typed on the burn step that is not accepted. */
const CONFIRM_PROBLEMS: Record<Exclude<RecoveryCodeCheck, 'ok'>, string> = {
  malformed: 'A recovery code is 16 characters: digits and the letters a to f. Type one code from the set you just saved.',
  invalid: 'That is not one of your current recovery codes. Type one code from the set you just saved (older sets no longer work).',
  used: 'That code has already been used. Type another code from the set you just saved.',
};

/** Where the show page is, with the nonce that lets exactly one showing happen. */
export function recoveryCodesShowUrl(nonce: string): string {
  return `${RECOVERY_CODE_ROUTES.show}?${new URLSearchParams({ [SHOW_NONCE_PARAM]: nonce }).toString()}`;
}

/**
 * Keep `codes` in the session for their one showing and say where that is. Call with services bound
 * to the transaction that created the codes, so the set and its showing commit together.
 */
export async function pendingShowing(res: Response, services: Services, codes: string[], options: PendingShowingOccasion = {}): Promise<string> {
  const nonce = await services.sessions.setPendingRecoveryCodes(currentUser(res).session.id, codes, options);
  return recoveryCodesShowUrl(nonce);
}

/**
 * Fetch Metadata (`Sec-Fetch-Site`): the one showing is only for navigations from this site, or typed
 * by the user (`none`). Browsers that send no such header still need the nonce.
 */
function crossSite(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/**
 * Recovery codes on the account side (issue 13 item 6; DESIGN.md section 2): generating is
 * POST → 303 → GET show, the set is shown once, and the burn step asks for one code back.
 */
export function recoveryCodeRoutes(services: Services): Router {
  const router = Router();
  router.use('/manage/account/recovery-codes', requireUser());

  const refuse = (res: Response, status: number, title: string, message: string) =>
    sendPage(res, status, MessagePage({ page: pageContext(res), title, message }));

  /** Is there a set waiting for the burn step? Otherwise the verify page has nothing to do. */
  const awaitingConfirmation = async (res: Response): Promise<boolean> => {
    const { user } = currentUser(res);
    return services.recoveryCodes.awaitingConfirmation(user.id, user.recovery_codes_confirmed_at);
  };
  const nothingToConfirm = (res: Response) =>
    refuse(
      res,
      409,
      'Nothing to confirm',
      'Your recovery codes are already confirmed, or you have none. Generate a new set from your account page if you need one.',
    );

  router.post(
    ROUTES.recoveryCodesGenerate,
    handler(async (req, res) => {
      const { user } = currentUser(res);
      // The old codes die: the form must carry the confirmation (when there are codes to lose).
      if (!confirmed(req) && (await services.recoveryCodes.remaining(user.id)) > 0) {
        return renderAccountPage(res, services, 400, { recoveryCodes: { [CONFIRM_FIELD]: CONFIRM_TEXT.newCodesMissing } });
      }
      // ASVS V3.7.1: re-authenticate before a security change; a stolen session must not void the owner's codes at will.
      const reauth = await reauthenticate(req, res, services, passwordFrom(req));
      // In place, like every refused change on the account page: the 5-minute window may have closed
      // since the page was loaded without a password field, so the answer must offer one (QA finding 4).
      if (!reauth.ok) return renderAccountPage(res, services, reauth.status, { recoveryCodes: { [FIELDS.password]: reauth.message } });
      // The new set and its pending showing in one transaction: a crash between them would void the old
      // codes without ever showing the new ones.
      const next = await inTransaction(services.db, async (trx) => {
        const bound = services.boundTo(trx);
        const codes = await bound.recoveryCodes.generate(user.id, requestOrigin(req));
        // Decided after the set is written, whose UPDATE of the user's row waits for a factor removal in
        // progress (each removal updates that row first): a check made before it would let another tab
        // remove the last factor in between, leaving 2FA off with a live set of codes. Rolled back then.
        if (!(await bound.accounts.twoFactorStatus(user.id)).enabled) throw new NoSecondFactor();
        return pendingShowing(res, bound, codes);
      }).catch((error: unknown) => {
        if (error instanceof NoSecondFactor) return null;
        throw error;
      });
      if (next === null) {
        return refuse(res, 400, 'No new recovery codes', 'Turn on two-factor authentication first: recovery codes stand in for a second factor.');
      }
      // 303 to a GET: a reload shows nothing new and never generates again (the old set stays void).
      res.redirect(303, next);
    }),
  );

  router.get(
    RECOVERY_CODE_ROUTES.show,
    handler(async (req, res) => {
      const { session } = currentUser(res);
      if (crossSite(req)) {
        return refuse(
          res,
          403,
          'Open your recovery codes from this site',
          'Recovery codes are shown only after you generate them on your account page. Nothing was used up: go to your account page.',
        );
      }
      // A HEAD for the redirect URL used up the one showing (QA finding 8).
      if (answeredHeadUnchanged(req, res)) return;
      const showing = await services.sessions.takePendingRecoveryCodes(session.id, queryValue(req, SHOW_NONCE_PARAM));
      if (showing === 'wrong-nonce') {
        return refuse(
          res,
          403,
          'This link cannot show recovery codes',
          'Recovery codes are shown only right after you generate them, on the page this site sends you to. Go back to your account page.',
        );
      }
      if (!showing) {
        const unconfirmed = await awaitingConfirmation(res);
        return sendPage(
          res,
          404,
          MessagePage({
            page: pageContext(res),
            title: 'Recovery codes are shown only once',
            message: unconfirmed
              ? 'These recovery codes were already shown. If you saved them, confirm one now; if not, generate a new set from your account page.'
              : 'These recovery codes were already shown. If you did not save them, generate a new set from your account page.',
            action: unconfirmed ? { href: RECOVERY_CODE_ROUTES.verify, label: 'Confirm a saved code' } : undefined,
          }),
        );
      }
      sendPage(
        res,
        200,
        RecoveryCodesPage({
          page: pageContext(res),
          codes: showing.codes,
          firstTime: showing.firstTime,
          allUsed: showing.allUsed,
          support: services.config.supportContact ?? null,
          site: services.config.origin,
          // Shown right after the set was made (the showing is that set's redirect): now is its date.
          generatedAt: services.now(),
        }),
      );
    }),
  );

  router.get(
    RECOVERY_CODE_ROUTES.verify,
    handler(async (_req, res) => {
      if (!(await awaitingConfirmation(res))) return nothingToConfirm(res);
      sendPage(res, 200, RecoveryCodesVerifyPage({ page: pageContext(res) }));
    }),
  );

  router.post(
    RECOVERY_CODE_ROUTES.verify,
    handler(async (req, res) => {
      const { user, session } = currentUser(res);
      if (!(await awaitingConfirmation(res))) return nothingToConfirm(res);
      const form = parseForm(req, VERIFY_FORM);
      if (!form.ok) return sendPage(res, 400, RecoveryCodesVerifyPage({ page: pageContext(res), form: { fieldErrors: form.fieldErrors } }));
      // No rate limit needed: the typed code is one of eight 64-bit secrets, so guessing is hopeless,
      // and this page proves nothing an attacker could use (the session is already logged in).
      const result = await services.recoveryCodes.confirm(user.id, form.data[FIELDS.recoveryCodeValue], requestOrigin(req));
      if (result !== 'ok') {
        return sendPage(
          res,
          400,
          RecoveryCodesVerifyPage({ page: pageContext(res), form: { fieldErrors: { [FIELDS.recoveryCodeValue]: CONFIRM_PROBLEMS[result] } } }),
        );
      }
      const left = await services.recoveryCodes.remaining(user.id);
      await services.sessions.setFlash(session.id, {
        kind: 'success',
        text: `Recovery codes confirmed. The code you typed is used up; ${left} ${left === 1 ? 'code is' : 'codes are'} left.`,
      });
      res.redirect(303, ROUTES.manageAccount);
    }),
  );

  return router;
}
