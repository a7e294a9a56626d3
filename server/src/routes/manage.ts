import type { Request, Response } from 'express';
import { Router } from 'express';
import QRCode from 'qrcode';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { LastFactorUnconfirmed } from '../services/clear-recovery-codes-if-no-factor.js';
import { ServiceError } from '../services/errors.js';
import { PASSWORD_MAX_LENGTH } from '../services/password-rule.js';
import { HISTORY_PAGE_SIZE } from '../services/events.js';
import { TOTP_ALREADY_ON } from '../services/totp.js';
import { mailableIn } from '../services/verification-mail-cap.js';
import type { Services } from '../services/index.js';
import { AccountPage, ACCOUNT_ROUTES, CONFIRM_TEXT, DELETE_ACCOUNT_FIELDS, type AccountPageProblems } from '../views/account-page.js';
import { canonicalUsername } from '../services/accounts.js';
import type { AddressOnPage } from '../views/email-addresses-section.js';
import { CONFIRM_FIELD } from '../views/layout.js';
import { MessagePage } from '../views/message-page.js';
import { TotpProvisionPage } from '../views/totp-provision-page.js';
import { loadAccountActivity } from './account-activity.js';
import {
  cookieNames,
  cookieOptions,
  currentUser,
  formSchema,
  handler,
  optionalTextField,
  pageContext,
  parseForm,
  requestOrigin,
  sendPage,
  textField,
} from './http.js';
import { refuseWithoutVerifiedPrimary } from './email.js';
import { pendingShowing } from './recovery-codes.js';
import { loginUrlAfter } from './login-notice.js';
import { checkPassword, reauthenticate, renewAnonymousToken, requireUser } from './session.js';

const DELETE_ACCOUNT_FORM = formSchema({
  [DELETE_ACCOUNT_FIELDS.username]: optionalTextField('your username', 256),
  [FIELDS.password]: optionalTextField('your password', PASSWORD_MAX_LENGTH, { keepControlCharacters: true }),
});

const TOTP_PROVISION_FORM = formSchema({
  [FIELDS.totpValue]: textField('the 6-digit code your app shows', 64),
  [FIELDS.password]: optionalTextField('your password', PASSWORD_MAX_LENGTH, { keepControlCharacters: true }),
});

/**
 * Call inside the transaction that adds a 2FA method (TOTP here, security keys in routes/webauthn.ts),
 * with services bound to it, after the method is stored. When the user has no unused recovery codes
 * (the first method, or every code of the set was used), a set of 8 is generated and kept (encrypted,
 * in the session) until the recovery-codes page shows it once — in the same transaction as the method,
 * so a crash never leaves a second factor on without codes to show. Returns where to go next.
 */
export async function afterMethodAdded(res: Response, services: Services, userId: string, methodName: string): Promise<string> {
  const { session } = currentUser(res);
  const status = await services.accounts.twoFactorStatus(userId);
  if (status.recoveryCodesRemaining === 0) {
    const codes = await services.recoveryCodes.generate(userId, originOf(res));
    // The new method is already counted: 2FA was on before it when it is not the only one. "No codes
    // left" alone does not mean "first method" (QA finding 7: all codes used, then a key added).
    const methods = (status.hasTotp ? 1 : 0) + status.securityKeyCount;
    const firstTime = methods <= 1;
    return pendingShowing(res, services, codes, { firstTime, allUsed: !firstTime });
  }
  await services.sessions.setFlash(session.id, { kind: 'success', text: `${methodName} added. Your recovery codes still work.` });
  return ROUTES.manageAccount;
}

/**
 * Call right after a 2FA method was removed, for the message only: is 2FA off now? (The removal itself
 * deleted the recovery codes in its transaction when it took the last factor.)
 */
export async function twoFactorNowOff(services: Services, userId: string): Promise<boolean> {
  return !(await services.accounts.twoFactorStatus(userId)).enabled;
}

/** Did the visitor tick the form's confirmation checkbox ({@link ConfirmCheckbox})? */
export function confirmed(req: Request): boolean {
  return ((req.body ?? {}) as Record<string, unknown>)[CONFIRM_FIELD] === 'on';
}

/**
 * Removing one method when it is the last second factor turns 2FA off: the form must carry the
 * confirmation. True when the removal is confirmed or would leave another method.
 */
export async function lastFactorConfirmed(req: Request, services: Services, userId: string): Promise<boolean> {
  const status = await services.accounts.twoFactorStatus(userId);
  const methods = (status.hasTotp ? 1 : 0) + status.securityKeyCount;
  return methods !== 1 || confirmed(req);
}

/** The `password` field when it is a single string; anything else counts as missing (and gets "Enter your password"). */
export function passwordFrom(req: Request): string | undefined {
  const value = ((req.body ?? {}) as Record<string, unknown>)[FIELDS.password];
  return typeof value === 'string' ? value : undefined;
}

/** The origin recorded with events raised outside a request handler's direct reach. */
function originOf(res: Response) {
  return requestOrigin(res.req);
}

/** The account page; `problems` shows a refused form's errors in place (status 4xx). */
export async function renderAccountPage(res: Response, services: Services, status: number, problems?: AccountPageProblems): Promise<void> {
  const { user, session } = currentUser(res);
  const [twoFactor, securityKeys, events, flash, addresses, activity, recoveryCodesUnconfirmed] = await Promise.all([
    services.accounts.twoFactorStatus(user.id),
    services.accounts.securityKeys(user.id),
    services.events.list(user.id, { limit: HISTORY_PAGE_SIZE }),
    services.sessions.takeFlash(session.id),
    services.emails.listWithLinkState(user.id),
    loadAccountActivity(res, services),
    services.recoveryCodes.awaitingConfirmation(user.id, user.recovery_codes_confirmed_at),
  ]);
  // When "Send link" works for an address never sent a link (its registration's link held back by the
  // per-mailbox cap): one read per such address, none for the others.
  const addressesOnPage: AddressOnPage[] = await Promise.all(
    addresses.map(async (address) => {
      const wait = !address.verified && address.verifySentAt === null ? await services.emails.verificationMailWait(address.email, originOf(res).ip) : 0;
      return { ...address, sendableIn: wait > 0 ? mailableIn(wait) : '' };
    }),
  );
  sendPage(
    res,
    status,
    AccountPage({
      page: pageContext(res, flash),
      email: user.email,
      addresses: addressesOnPage,
      hasTotp: twoFactor.hasTotp,
      totpEnabledAt: user.totp_enabled_at,
      securityKeys,
      recoveryCodesRemaining: twoFactor.recoveryCodesRemaining,
      recoveryCodesUnconfirmed,
      recentlyAuthenticated: services.sessions.isRecentlyAuthenticated(session),
      events,
      ...activity,
      problems,
      support: services.config.supportContact ?? null,
    }),
  );
}

/** /manage/account/…: the account page, TOTP provisioning, recovery codes, remembered devices. */
export function manageRoutes(services: Services): Router {
  const router = Router();
  router.use('/manage', requireUser());

  const renderAccount = (res: Response, status: number, problems?: AccountPageProblems) => renderAccountPage(res, services, status, problems);

  router.get(
    ROUTES.manageAccount,
    handler((_req, res) => renderAccount(res, 200)),
  );

  /** The secret being provisioned lives (encrypted) in the session between showing it and confirming it. */
  const pendingSecret = async (res: Response, create: boolean): Promise<string | null> => {
    const { session } = currentUser(res);
    const existing = services.sessions.pendingTotpSecret(session);
    if (existing || !create) return existing;
    const secret = services.totp.generateSecret();
    await services.sessions.setPendingTotpSecret(session.id, secret);
    return secret;
  };

  const renderProvision = async (res: Response, status: number, secret: string, fieldErrors: Record<string, string> = {}) => {
    const { user, session } = currentUser(res);
    sendPage(
      res,
      status,
      TotpProvisionPage({
        page: pageContext(res),
        secret,
        otpauthUri: secret ? services.totp.provisioningUri(user.username, secret) : '',
        issuer: services.config.rpName,
        username: user.username,
        recentlyAuthenticated: services.sessions.isRecentlyAuthenticated(session),
        form: { fieldErrors },
      }),
    );
  };

  const alreadyOn = (res: Response) =>
    sendPage(
      res,
      409,
      MessagePage({
        page: pageContext(res),
        title: 'Authentication app already set up',
        message: TOTP_ALREADY_ON,
      }),
    );

  router.get(
    ROUTES.totpProvision,
    handler(async (_req, res) => {
      const { user } = currentUser(res);
      if ((await services.accounts.twoFactorStatus(user.id)).hasTotp) return alreadyOn(res);
      if (await refuseWithoutVerifiedPrimary(res, services, user.id)) return;
      const secret = await pendingSecret(res, true);
      await renderProvision(res, 200, secret ?? '');
    }),
  );

  router.get(
    ROUTES.totpProvisionImage,
    handler(async (_req, res) => {
      const { user } = currentUser(res);
      const secret = await pendingSecret(res, false);
      if (!secret) {
        res.status(404).set('Cache-Control', 'no-store').type('text/plain').send('No authentication app is being set up. Open the set-up page first.');
        return;
      }
      const png = await QRCode.toBuffer(services.totp.provisioningUri(user.username, secret), {
        type: 'png',
        width: 220,
        margin: 2,
        errorCorrectionLevel: 'M',
      });
      // The QR code holds the secret: never cache it anywhere.
      res.status(200).set('Cache-Control', 'no-store').type('png').send(png);
    }),
  );

  router.post(
    ROUTES.totpProvision,
    handler(async (req, res) => {
      const { user, session } = currentUser(res);
      if ((await services.accounts.twoFactorStatus(user.id)).hasTotp) return alreadyOn(res);
      if (await refuseWithoutVerifiedPrimary(res, services, user.id)) return;
      const secret = await pendingSecret(res, false);
      if (!secret) {
        return sendPage(
          res,
          400,
          MessagePage({
            page: pageContext(res),
            title: 'Start again',
            message: 'This set-up page has expired. Open “Add an authentication app” again to get a new QR code.',
          }),
        );
      }
      const form = parseForm(req, TOTP_PROVISION_FORM);
      if (!form.ok) return renderProvision(res, 400, secret, form.fieldErrors);
      const reauth = await reauthenticate(req, res, services, form.data[FIELDS.password]);
      if (!reauth.ok) return renderProvision(res, reauth.status, secret, { [FIELDS.password]: reauth.message });
      let next: string = ROUTES.manageAccount;
      try {
        await services.totp.confirmAndEnable(user.id, secret, form.data[FIELDS.totpValue], requestOrigin(req), {
          alsoInTransaction: async (trx) => {
            next = await afterMethodAdded(res, services.boundTo(trx), user.id, 'Authentication app');
          },
        });
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        // Another session turned TOTP on meanwhile (its secret stays): the same 409 page as the check above.
        if (error.status === 409) {
          await services.sessions.setPendingTotpSecret(session.id, null);
          return alreadyOn(res);
        }
        return renderProvision(res, error.status, secret, { [error.field ?? FIELDS.totpValue]: error.message });
      }
      await services.sessions.setPendingTotpSecret(session.id, null);
      res.redirect(303, next);
    }),
  );

  router.post(
    ROUTES.totpProvisionRemove,
    handler(async (req, res) => {
      const { user, session } = currentUser(res);
      if (!(await services.accounts.twoFactorStatus(user.id)).hasTotp) {
        // Nothing to remove (a second tab already did): say so on the account page.
        await services.sessions.setFlash(session.id, { kind: 'warning', text: 'Your account had no authentication app.' });
        return res.redirect(303, ROUTES.manageAccount);
      }
      if (!(await lastFactorConfirmed(req, services, user.id))) {
        return renderAccount(res, 400, { totpRemove: { [CONFIRM_FIELD]: CONFIRM_TEXT.lastMethodMissing } });
      }
      const check = await checkPassword(req, res, services, passwordFrom(req));
      if (!check.ok) return renderAccount(res, check.status, { totpRemove: { [FIELDS.password]: check.message } });
      let removed: boolean;
      try {
        removed = await services.totp.disable(user.id, requestOrigin(req), { lastFactorConfirmed: confirmed(req) });
      } catch (error) {
        // Another tab removed the other factor meanwhile: this one is now the last, and was not confirmed.
        if (!(error instanceof LastFactorUnconfirmed)) throw error;
        return renderAccount(res, error.status, { totpRemove: { [CONFIRM_FIELD]: error.message } });
      }
      const lastMethod = removed && (await twoFactorNowOff(services, user.id));
      await services.sessions.setFlash(session.id, {
        kind: removed ? 'success' : 'warning',
        text: removed
          ? `Authentication app removed.${lastMethod ? ' Two-factor authentication is now off and your recovery codes were deleted.' : ''}`
          : 'Your account had no authentication app.',
      });
      res.redirect(303, ROUTES.manageAccount);
    }),
  );

  router.post(
    ACCOUNT_ROUTES.deleteAccount,
    handler(async (req, res) => {
      const { user } = currentUser(res);
      const refuse = (status: number, field: string, message: string) => renderAccount(res, status, { deleteAccount: { [field]: message } });
      const form = parseForm(req, DELETE_ACCOUNT_FORM);
      if (!form.ok) {
        const [field, message] = Object.entries(form.fieldErrors)[0] ?? [FIELDS.password, 'Reload the page and try again.'];
        return refuse(400, field, message);
      }
      // The name first, so a slip costs no password try. Irreversible, so the password is asked every
      // time, however recent the login (ASVS V3.7.1), and wrong ones count towards the session's limit.
      if (canonicalUsername(form.data[DELETE_ACCOUNT_FIELDS.username]) !== user.username) {
        return refuse(400, DELETE_ACCOUNT_FIELDS.username, `Type your username, ${user.username}, to confirm that this account is the one to delete.`);
      }
      const reauth = await checkPassword(req, res, services, form.data[FIELDS.password]);
      if (!reauth.ok) return refuse(reauth.status, FIELDS.password, reauth.message);
      await services.accounts.deleteAccount(user, requestOrigin(req));
      // The sessions went with the account; this browser also forgets the cookies that named it.
      renewAnonymousToken(res, services);
      res.clearCookie(cookieNames(services.config).device, cookieOptions(services.config));
      res.redirect(303, loginUrlAfter('deleted'));
    }),
  );

  router.post(
    ROUTES.revokeSessions,
    handler(async (req, res) => {
      const { user } = currentUser(res);
      // A stolen session must not be able to log the owner out at will: same re-authentication as 2FA changes (ASVS V3.7.1).
      const reauth = await reauthenticate(req, res, services, passwordFrom(req));
      // In place, with the password field open and focused (QA finding 4): see recoveryCodesGenerate.
      if (!reauth.ok) return renderAccount(res, reauth.status, { revokeSessions: { [FIELDS.password]: reauth.message } });
      // ASVS V3.3.4: the user can terminate all active sessions. Remembered devices and 2FA are left alone.
      // The sessions and the event that counts them commit together (services/sessions.ts).
      await services.sessions.destroyAllForUser(user.id, requestOrigin(req));
      renewAnonymousToken(res, services);
      // Flashes live in the session that was just ended: the login page says it from the query instead.
      res.redirect(303, loginUrlAfter('everywhere'));
    }),
  );

  return router;
}
