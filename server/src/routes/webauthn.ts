/**
 * Security-key routes (DESIGN.md section 2): the two JSON endpoints of the login ceremony, the
 * management page, the two JSON endpoints of the registration ceremony, and key removal. Thin by
 * design: bodies are checked with zod, the rules live in services/webauthn.ts and services/login.ts,
 * and every refusal is a 4xx with a sentence for people (`{fail:{errors:[…]}}` for JSON).
 */
import type { Request, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { FIELDS, isolate, ROUTES, type WebauthnAuthenticateSuccess } from '@latchkey/shared';
import type { Services } from '../services/index.js';
import type { SecondFactorResult } from '../services/login.js';
import { PASSWORD_MAX_LENGTH } from '../services/password-rule.js';
import { MAX_KEY_LABEL_LENGTH } from '../services/webauthn-key-label.js';
import { CEREMONY_TIMEOUT_MS, WebauthnRefusal } from '../services/webauthn.js';
import { REAUTH_WINDOW_MS } from '../services/sessions.js';
import type { SessionRow } from '../db/schema.js';
import { KEY_RENAME, type KeyFormRefusal, WebauthnProvisionPage } from '../views/webauthn-provision-page.js';
import { CONFIRM_TEXT } from '../views/account-page.js';
import { firstFactorRefusal, refuseWithoutVerifiedPrimary } from './email.js';
import { LastFactorUnconfirmed } from '../services/clear-recovery-codes-if-no-factor.js';
import { afterMethodAdded, confirmed, twoFactorNowOff, lastFactorConfirmed } from './manage.js';
import {
  bodyFields,
  currentUser,
  formSchema,
  handler,
  pageContext,
  parseForm,
  queryValue,
  requestOrigin,
  sendJsonFailure,
  sendPage,
  setRetryAfter,
  textField,
  withoutControlCharacters,
} from './http.js';
import { checkPassword, enterSession, loginDestination, reauthenticate, requireUser } from './session.js';
import { SESSION_ENDED_NOTICES } from './login-notice.js';

/** base64url text as browsers send it; the cap keeps a hostile body from reaching the CBOR parser. */
const base64url = (max: number) =>
  z
    .string({ error: 'The security-key answer is incomplete.' })
    .min(1, 'The security-key answer is incomplete.')
    .max(max, 'The security-key answer is too large.')
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'The security-key answer is not encoded as expected.');

/** The fields every `PublicKeyCredential` answer has, whichever ceremony it answers. */
const credentialFields = {
  id: base64url(1024),
  rawId: base64url(1024),
  type: z.literal('public-key', { error: 'The security-key answer is not a public-key credential.' }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()),
};

/** `RegistrationResponseJSON` from @simplewebauthn/browser's startRegistration(). */
const registrationCredential = z.object({
  ...credentialFields,
  response: z.object({
    clientDataJSON: base64url(4096),
    attestationObject: base64url(48 * 1024),
    authenticatorData: base64url(8192).optional(),
    transports: z.array(z.string().max(32)).max(16).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url(8192).optional(),
  }),
});

/** `AuthenticationResponseJSON` from @simplewebauthn/browser's startAuthentication(). */
const authenticationCredential = z.object({
  ...credentialFields,
  response: z.object({
    clientDataJSON: base64url(4096),
    authenticatorData: base64url(8192),
    signature: base64url(2048),
    userHandle: base64url(1024).optional(),
  }),
});

const labelField = withoutControlCharacters(
  z.string({ error: 'Give the security key a name.' }).max(4 * MAX_KEY_LABEL_LENGTH, `The name must be at most ${MAX_KEY_LABEL_LENGTH} characters.`),
  'the name',
);
const passwordField = z.string({ error: 'Enter your password.' }).max(PASSWORD_MAX_LENGTH, 'That password is too long.');

const authenticateBody = z.object({
  credential: authenticationCredential,
  [FIELDS.rememberDevice]: z.boolean({ error: 'remember_device must be true or false.' }).optional(),
});
const provisionOptionsBody = z.object({ [FIELDS.label]: labelField.optional(), [FIELDS.password]: passwordField.optional() });
const provisionValidateBody = z.object({ credential: registrationCredential, [FIELDS.label]: labelField });
const KEY_DELETE_FORM = formSchema({
  [FIELDS.label]: textField('which key to remove', 4 * MAX_KEY_LABEL_LENGTH, 'Choose which security key to remove.'),
  [FIELDS.password]: textField('your password to confirm', PASSWORD_MAX_LENGTH, 'Enter your password to confirm.', { keepControlCharacters: true }),
});

const KEY_RENAME_FORM = formSchema({
  [FIELDS.label]: textField('which key to rename', 4 * MAX_KEY_LABEL_LENGTH, 'Choose which security key to rename.'),
  [KEY_RENAME.newLabelField]: textField('the new name', 4 * MAX_KEY_LABEL_LENGTH, 'Give the security key a name.'),
});

/** Parse a JSON body; on failure answer 400 with one message per problem and return null. */
function parseJson<Schema extends z.ZodType>(req: Request, res: Response, schema: Schema): z.output<Schema> | null {
  const result = schema.safeParse(bodyFields(req));
  if (result.success) return result.data;
  const messages = [...new Set(result.error.issues.map((issue) => issue.message))];
  sendJsonFailure(res, 400, messages);
  return null;
}

function sendJson(res: Response, body: unknown): void {
  res.status(200).set('Cache-Control', 'no-store').json(body);
}

/** A login step that did not succeed: the token or the rate limit said no, or the key was refused. */
function sendLoginFailure(res: Response, result: Exclude<SecondFactorResult, { kind: 'success' }>): void {
  setRetryAfter(res, result);
  // An expired or used login token never works again: the page offers the login instead of its button.
  sendJsonFailure(res, result.status, [result.message], result.kind === 'token-problem' ? { restart: ROUTES.login } : {});
}

/**
 * Ceremony options store a challenge (3 writes each): counted per account and per address before any
 * is made (ASVS V11.1.4). True when refused — then a 429 with Retry-After has been sent.
 */
async function refuseOverOptionsLimit(req: Request, res: Response, services: Services, userId: string): Promise<boolean> {
  const verdict = await services.requestLimits.take('webauthn-options', { ip: requestOrigin(req).ip, subject: userId });
  if (verdict.kind !== 'blocked') return false;
  setRetryAfter(res, verdict);
  sendJsonFailure(res, verdict.status, [verdict.message]);
  return true;
}

/**
 * The options step needed a login or password of the last 5 minutes (REAUTH_WINDOW_MS), and the browser
 * then waits up to CEREMONY_TIMEOUT_MS for the touch: the answer is accepted within both together. With the
 * 5 minutes alone, options asked at 4½ minutes and a touch a minute later were refused — on a page that has
 * no password field to "enter it again" (it was rendered inside the window), so only a reload helped.
 */
function ceremonyStillCovered(services: Services, session: SessionRow): boolean {
  return services.now() - session.authenticated_at < REAUTH_WINDOW_MS + CEREMONY_TIMEOUT_MS;
}

/** Ceremony options as JSON, or the service's refusal (a label taken, too many keys…) as a 4xx with its message. */
async function sendOptions(res: Response, options: Promise<unknown>): Promise<void> {
  try {
    sendJson(res, await options);
  } catch (error) {
    if (!(error instanceof WebauthnRefusal)) throw error;
    sendJsonFailure(res, error.status, [error.message]);
  }
}

export function webauthnRoutes(services: Services): Router {
  const router = Router();

  // ── Login: `?token=T` carries the successful password step (no session yet). ──

  router.post(
    ROUTES.webauthnAuthenticateOptions,
    handler(async (req, res) => {
      const token = queryValue(req, FIELDS.twoFactorToken);
      const gate = await services.login.beginSecondFactor(token, requestOrigin(req));
      if (gate.kind !== 'ready') return sendLoginFailure(res, gate);
      if (await refuseOverOptionsLimit(req, res, services, gate.userId)) return;
      // The challenge is this login's (T's) alone: its answer completes no other pending login of the account.
      // (A missing T never passes the gate; '' only keeps the type.)
      await sendOptions(res, services.webauthn.authenticationOptions(gate.userId, token ?? ''));
    }),
  );

  router.post(
    ROUTES.webauthnAuthenticateValidate,
    handler(async (req, res) => {
      const body = parseJson(req, res, authenticateBody);
      if (!body) return;
      const token = queryValue(req, FIELDS.twoFactorToken);
      const origin = requestOrigin(req);
      const gate = await services.login.attemptSecondFactor(token, origin);
      if (gate.kind !== 'ready') return sendLoginFailure(res, gate);
      try {
        await services.webauthn.authenticate(gate.user.id, token ?? '', body.credential, origin);
      } catch (error) {
        if (!(error instanceof WebauthnRefusal)) throw error;
        // The service recorded why; the attempt was already counted against the account and IP limits.
        return sendLoginFailure(res, await services.login.countSecondFactorFailure(gate, origin, error.message));
      }
      const result = await services.login.completeSecondFactor(gate, token, 'webauthn', origin);
      if (result.kind === 'token-problem' || result.kind === 'blocked' || result.kind === 'invalid') return sendLoginFailure(res, result);
      if (!(await enterSession(res, services, result, { rememberDevice: body[FIELDS.rememberDevice] === true }))) {
        // The account changed while this login was under way (services/login.ts startSession): no session, so no "Logged in".
        return sendJsonFailure(res, 409, [SESSION_ENDED_NOTICES.changed], { restart: loginDestination(req) });
      }
      const success: WebauthnAuthenticateSuccess = { success: 'Logged in with your security key.', redirect_to: loginDestination(req) };
      sendJson(res, success);
    }),
  );

  // ── Management: logged-in users only; adding needs a recent login or the password, removing always the password. ──

  router.use(ROUTES.webauthnProvision, requireUser());

  const renderPage = async (res: Response, status: number, errors: string[] = [], refused?: KeyFormRefusal) => {
    const { user, session } = currentUser(res);
    const [keys, status2fa, flash] = await Promise.all([
      services.webauthn.list(user.id),
      services.accounts.twoFactorStatus(user.id),
      services.sessions.takeFlash(session.id),
    ]);
    sendPage(
      res,
      status,
      WebauthnProvisionPage({
        page: pageContext(res, flash),
        keys,
        hasTotp: status2fa.hasTotp,
        recentlyAuthenticated: services.sessions.isRecentlyAuthenticated(session),
        form: { errors },
        refused,
      }),
    );
  };

  router.get(
    ROUTES.webauthnProvision,
    handler(async (_req, res) => {
      if (await refuseWithoutVerifiedPrimary(res, services, currentUser(res).user.id)) return;
      await renderPage(res, 200);
    }),
  );

  router.post(
    ROUTES.webauthnProvisionOptions,
    handler(async (req, res) => {
      const body = parseJson(req, res, provisionOptionsBody);
      if (!body) return;
      const { user } = currentUser(res);
      const refusal = await firstFactorRefusal(services, user.id);
      if (refusal) return sendJsonFailure(res, refusal.status, [refusal.message]);
      if (await refuseOverOptionsLimit(req, res, services, user.id)) return;
      const reauth = await reauthenticate(req, res, services, body[FIELDS.password]);
      // About the password: the page shows its field when it was rendered without one (the window closed since).
      if (!reauth.ok) return sendJsonFailure(res, reauth.status, [reauth.message], { field: FIELDS.password });
      await sendOptions(res, services.webauthn.registrationOptions(user, body[FIELDS.label]));
    }),
  );

  router.post(
    ROUTES.webauthnProvisionValidate,
    handler(async (req, res) => {
      const body = parseJson(req, res, provisionValidateBody);
      if (!body) return;
      const { user, session } = currentUser(res);
      const refusal = await firstFactorRefusal(services, user.id);
      if (refusal) return sendJsonFailure(res, refusal.status, [refusal.message]);
      // The options step re-authenticated (or found a recent login); the touch may come up to the ceremony's timeout after it.
      if (!ceremonyStillCovered(services, session)) {
        return sendJsonFailure(res, 401, ['Too much time has passed since you confirmed your password. Reload the page, enter your password and try again.']);
      }
      let added: { label: string };
      let next: string = ROUTES.manageAccount;
      try {
        added = await services.webauthn.register(user.id, body.credential, body[FIELDS.label], requestOrigin(req), {
          alsoInTransaction: async (trx, key) => {
            next = await afterMethodAdded(res, services.boundTo(trx), user.id, `Security key “${isolate(key.label)}”`);
          },
        });
      } catch (error) {
        if (!(error instanceof WebauthnRefusal)) throw error;
        return sendJsonFailure(res, error.status, [error.message]);
      }
      sendJson(res, {
        success: `Security key “${isolate(added.label)}” added.`,
        // Back to the key list, unless recovery codes must be shown first (the first second factor).
        redirect_to: next === ROUTES.manageAccount ? ROUTES.webauthnProvision : next,
      });
    }),
  );

  router.post(
    ROUTES.webauthnProvisionDelete,
    handler(async (req, res) => {
      /** The key's removal form shown open again with why, on the field it is about (as a refused rename's is). */
      const refuse = (status: number, errors: string[], field: 'password' | 'confirm') => {
        const { [FIELDS.label]: label } = bodyFields(req) as Record<string, unknown>;
        const attempt: KeyFormRefusal | undefined = typeof label === 'string' ? { form: 'remove', label, field, error: errors.join(' ') } : undefined;
        return renderPage(res, status, errors, attempt);
      };
      const form = parseForm(req, KEY_DELETE_FORM);
      if (!form.ok) return refuse(400, Object.values(form.fieldErrors), 'password');
      if (!(await lastFactorConfirmed(req, services, currentUser(res).user.id))) return refuse(400, [CONFIRM_TEXT.lastMethodMissing], 'confirm');
      const check = await checkPassword(req, res, services, form.data[FIELDS.password]);
      if (!check.ok) return refuse(check.status, [check.message], 'password');
      const { user, session } = currentUser(res);
      let removed: { label: string };
      try {
        removed = await services.webauthn.remove(user.id, form.data[FIELDS.label], requestOrigin(req), { lastFactorConfirmed: confirmed(req) });
      } catch (error) {
        // LastFactorUnconfirmed: another tab removed the other factor meanwhile, so this key is now the last.
        if (error instanceof LastFactorUnconfirmed) return refuse(error.status, [error.message], 'confirm');
        if (!(error instanceof WebauthnRefusal)) throw error;
        return renderPage(res, error.status, [error.message]);
      }
      const lastMethod = await twoFactorNowOff(services, user.id);
      // A flash is text: the label goes in as an isolate (FSI … PDI), so a right-to-left one keeps its own order
      // inside the sentence (@latchkey/shared isolate), as in the renamed and added messages here.
      await services.sessions.setFlash(session.id, {
        kind: lastMethod ? 'warning' : 'success',
        text: lastMethod
          ? `Security key “${isolate(removed.label)}” removed. Two-factor authentication is now off and your recovery codes were deleted: add a key or an authentication app.`
          : `Security key “${isolate(removed.label)}” removed.`,
      });
      res.redirect(303, ROUTES.webauthnProvision);
    }),
  );

  // Renaming changes no factor (the key and its credential stay), so it asks for no password; it is recorded.
  router.post(
    KEY_RENAME.route,
    handler(async (req, res) => {
      const form = parseForm(req, KEY_RENAME_FORM);
      /** The key's rename form shown open again, with what was typed and why it was refused (on its field too). */
      const refuse = (status: number, errors: string[]) => {
        const { [FIELDS.label]: label, [KEY_RENAME.newLabelField]: value } = bodyFields(req) as Record<string, unknown>;
        const attempt: KeyFormRefusal | undefined =
          typeof label === 'string' && typeof value === 'string' ? { form: 'rename', label, value, error: errors.join(' ') } : undefined;
        return renderPage(res, status, errors, attempt);
      };
      if (!form.ok) return refuse(400, Object.values(form.fieldErrors));
      const { user, session } = currentUser(res);
      let renamed: { from: string; label: string };
      try {
        renamed = await services.webauthn.rename(user.id, form.data[FIELDS.label], form.data[KEY_RENAME.newLabelField], requestOrigin(req));
      } catch (error) {
        if (!(error instanceof WebauthnRefusal)) throw error;
        return refuse(error.status, [error.message]);
      }
      await services.sessions.setFlash(session.id, {
        kind: 'success',
        text:
          renamed.from === renamed.label
            ? `Security key “${isolate(renamed.label)}” kept its name.`
            : `Security key “${isolate(renamed.from)}” renamed to “${isolate(renamed.label)}”.`,
      });
      res.redirect(303, ROUTES.webauthnProvision);
    }),
  );

  return router;
}
