import { randomBytes } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { parse as parseCookies } from 'cookie';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { User } from '../db/schema.js';
import type { Services } from '../services/index.js';
import { hmac, safeEqual } from '../services/keys.js';
import { REMEMBER_DEVICE_MS } from '../services/remembered-devices.js';
import type { SessionGrant, StartedSession } from '../services/login.js';
import { PASSWORD_MAX_LENGTH } from '../services/password-rule.js';
import { MessagePage } from '../views/message-page.js';
import { loginUrlAfter, SESSION_ENDED_NOTICES } from './login-notice.js';
import { cookieNames, cookieOptions, handler, pageContext, queryValue, requestOrigin, safeNext, sendJsonFailure, sendPage, state, wantsJson } from './http.js';

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/**
 * A visitor without a session carries `anon.` and 256 random bits: never a session's token (those are
 * {@link TOKEN_PATTERN}, always issued fresh at login), so the anonymous pages of a login — the login form,
 * the second step — need no session lookup at all.
 */
const ANONYMOUS_PATTERN = /^anon\.[A-Za-z0-9_-]{43}$/;

function newAnonymousToken(): string {
  return `anon.${randomBytes(32).toString('base64url')}`;
}

/**
 * Loads the session named by the session cookie. Visitors without a session still get a random
 * cookie token, so the login and register forms carry a CSRF token too (login CSRF, ASVS V4.2.2).
 * The CSRF token is HMAC(csrf key, cookie token): a per-session synchronizer token that needs no storage.
 */
export function loadSession(services: Services): RequestHandler {
  const names = cookieNames(services.config);
  return handler(async (req, res, next) => {
    const cookies = parseCookies(req.headers.cookie ?? '');
    let cookieToken = cookies[names.session] ?? '';
    const anonymous = ANONYMOUS_PATTERN.test(cookieToken);
    const session = !anonymous && TOKEN_PATTERN.test(cookieToken) ? await services.sessions.load(cookieToken) : null;
    const user = session ? ((await services.accounts.findById(session.user_id)) ?? null) : null;
    // An unknown or expired session token stays this visitor's anonymous token (the CSRF token of a form
    // open in another tab stays valid); anything malformed is replaced.
    if (!anonymous && !TOKEN_PATTERN.test(cookieToken)) {
      cookieToken = newAnonymousToken();
      res.cookie(names.session, cookieToken, cookieOptions(services.config));
    }
    // A browser that was logged in (the marker cookie) but whose session is gone: it ended from another
    // browser or timed out. Said once on the login page, then the marker goes.
    const sessionEnded = !user && cookies[names.signedIn] !== undefined;
    if (sessionEnded) res.clearCookie(names.signedIn, cookieOptions(services.config));
    res.locals.state = {
      cookieToken,
      session: user ? session : null,
      user,
      csrfToken: csrfTokenFor(services, cookieToken),
      sessionEnded,
    };
    next();
  });
}

function csrfTokenFor(services: Services, cookieToken: string): string {
  return hmac(services.keys.csrf, `csrf:${cookieToken}`);
}

/** Methods that change state: they carry a body and must carry the CSRF token. */
export const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const CSRF_FAILURE_MESSAGE = 'This form has expired or did not come from this site. Go back, reload the page and try again.';

/** Said instead of {@link CSRF_FAILURE_MESSAGE} when a login step's form comes to a browser that is logged in. */
export const LOGIN_FINISHED_ELSEWHERE_MESSAGE =
  'This login was finished in another tab or window, so this form was not used: you are already logged in. Nothing needs redoing.';

/** The steps of a login: forms (and the key's JSON calls) posted by a browser that is not logged in yet. */
const LOGIN_STEP_PATHS: ReadonlySet<string> = new Set([
  ROUTES.login,
  ROUTES.twoFactor,
  ROUTES.recoveryCode,
  ROUTES.webauthnAuthenticateOptions,
  ROUTES.webauthnAuthenticateValidate,
]);

/** Every state-changing request must carry the token: form field `csrf_token` or header `X-CSRF-Token`. */
export function verifyCsrf(): RequestHandler {
  return (req, res, next) => {
    if (!UNSAFE_METHODS.has(req.method)) return next();
    const body = (req.body ?? {}) as Record<string, unknown>;
    const sent = req.get(FIELDS.csrfHeader) ?? body[FIELDS.csrfToken];
    if (typeof sent === 'string' && safeEqual(sent, state(res).csrfToken)) return next();
    // Refused either way (ASVS V4.2.2): only the words differ. A login step's form sent by a browser that is logged
    // in was loaded before that login, in another tab (logging in gives a new cookie, so a new token): "did not come
    // from this site… go back" was false and sent people round in circles. Any other mismatch keeps the CSRF words.
    const finishedElsewhere = state(res).user !== null && LOGIN_STEP_PATHS.has(req.path);
    const message = finishedElsewhere ? LOGIN_FINISHED_ELSEWHERE_MESSAGE : CSRF_FAILURE_MESSAGE;
    if (wantsJson(req)) return sendJsonFailure(res, 403, [message]);
    const page = pageContext(res);
    sendPage(
      res,
      403,
      finishedElsewhere ? MessagePage({ page, title: 'Already logged in', message, tone: 'success' }) : MessagePage({ page, title: 'Form expired', message }),
    );
  };
}

/** Pages behind login: GET goes to the login page (and back afterwards); anything else gets a 401. */
export function requireUser(): RequestHandler {
  return (req, res, next) => {
    if (state(res).user) return next();
    // "Expired" was false when a reset or another browser ended the session: the one sentence that is true
    // of every ending when this browser was logged in (login-notice.ts), plain words otherwise.
    const { sessionEnded } = state(res);
    if (wantsJson(req)) return sendJsonFailure(res, 401, ['You are not logged in, or your session has ended. Log in again.']);
    if (req.method === 'GET' || req.method === 'HEAD') {
      const back = safeNext(req.originalUrl);
      if (sessionEnded) return res.redirect(303, loginUrlAfter('elsewhere', back));
      res.redirect(303, back ? `${ROUTES.login}?${FIELDS.next}=${encodeURIComponent(back)}` : ROUTES.login);
      return;
    }
    const message = sessionEnded ? SESSION_ENDED_NOTICES.elsewhere : 'You are not logged in. Log in to continue.';
    sendPage(res, 401, MessagePage({ page: pageContext(res), title: 'Please log in', message, loginAgain: true }));
  };
}

/** `res.locals` key: the login was stopped ({@link enterSession}), so {@link loginDestination} is the login page saying why. */
const LOGIN_OUTDATED = 'loginOutdated';

/**
 * Log `user` in on this browser after a login that needs no second factor now (its password, with no 2FA
 * or on a remembered device: `grant` says which) or a registration: the session and its login event are
 * started together (services/login.ts `startSession`), then put on this browser ({@link enterSession}).
 * `user` must be the row the login checked; false when the login was stopped because the account changed
 * meanwhile.
 */
export async function startSession(res: Response, services: Services, user: User, grant: SessionGrant): Promise<boolean> {
  const started = await services.login.startSession(user, grant, requestOrigin(res.req));
  return enterSession(res, services, { user, started });
}

/**
 * Put a session a login started (services/login.ts: the second-factor steps start theirs, {@link startSession}
 * the others) on this browser: always a brand-new session id (ASVS V3.2.1: new token at authentication), the
 * old session (if any) destroyed; optionally the remembered-device cookie. `started` undefined or null: the
 * login was stopped — a password change or reset (which end every other session: one made afterwards from
 * the old password would survive them), a 2FA change or "Forget remembered devices" (which make what the
 * login presented stale) committed meanwhile — so this browser is left logged out, the answer is false, and
 * {@link loginDestination} is the login page saying so.
 */
export async function enterSession(
  res: Response,
  services: Services,
  login: { user: User; started?: StartedSession | null | undefined },
  options: { rememberDevice?: boolean } = {},
): Promise<boolean> {
  const names = cookieNames(services.config);
  const previous = state(res);
  // A browser that was logged in (a login form posted from a tab opened before) ends that session: recorded in
  // its account's history like any logout, so that account never loses a session without a word.
  if (previous.session && previous.user) await services.sessions.logOut(previous.user.id, previous.cookieToken, requestOrigin(res.req), { by: 'login' });
  const { user, started } = login;
  if (!started) {
    renewAnonymousToken(res, services);
    res.locals[LOGIN_OUTDATED] = true;
    return false;
  }
  const { token, session } = started;
  res.cookie(names.session, token, cookieOptions(services.config));
  // Not a secret: only lets the login page say "your session has ended" instead of nothing.
  res.cookie(names.signedIn, '1', cookieOptions(services.config));
  if (options.rememberDevice) {
    res.cookie(names.device, await services.rememberedDevices.issue(user, requestOrigin(res.req)), cookieOptions(services.config, REMEMBER_DEVICE_MS));
  }
  res.locals.state = { cookieToken: token, session, user, csrfToken: csrfTokenFor(services, token) };
  return true;
}

/** After logout: a fresh anonymous cookie token, so nothing of the old session survives on this browser. */
export function renewAnonymousToken(res: Response, services: Services): void {
  const token = newAnonymousToken();
  const names = cookieNames(services.config);
  res.cookie(names.session, token, cookieOptions(services.config));
  res.clearCookie(names.signedIn, cookieOptions(services.config));
  res.locals.state = { cookieToken: token, session: null, user: null, csrfToken: csrfTokenFor(services, token) };
}

/** Did the visitor tick "Remember this device" (form field `on`, or `true` in a JSON body)? */
export function rememberDeviceChosen(req: Request): boolean {
  const value = ((req.body ?? {}) as Record<string, unknown>)[FIELDS.rememberDevice];
  return value === 'on' || value === true;
}

/** The remembered-device cookie value, if the browser sent one. */
export function deviceCookie(req: Request, services: Services): string | undefined {
  return parseCookies(req.headers.cookie ?? '')[cookieNames(services.config).device];
}

/**
 * Where to go after a login: the validated `next` from the query or body, else the account page — or, when
 * {@link enterSession} found the login stopped because the account changed meanwhile, the login page saying so (the routes
 * that redirect here after it need not check its answer themselves).
 */
export function loginDestination(req: Request): string {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const next = safeNext(body[FIELDS.next]) ?? safeNext(queryValue(req, FIELDS.next));
  if (req.res?.locals[LOGIN_OUTDATED] === true) return loginUrlAfter('changed', next);
  return next ?? ROUTES.manageAccount;
}

export type ReauthResult = { ok: true } | { ok: false; status: number; message: string };

/**
 * 2FA changes need the password unless the user authenticated in the last 5 minutes
 * (ASVS V3.7.1 re-authentication before sensitive changes). Wrong passwords count towards the
 * password limit and are recorded.
 */
export async function reauthenticate(req: Request, res: Response, services: Services, password: unknown): Promise<ReauthResult> {
  const { user, session } = state(res);
  if (!user || !session) return { ok: false, status: 401, message: 'Log in again.' };
  if (services.sessions.isRecentlyAuthenticated(session) && (password === undefined || password === '')) return { ok: true };
  return checkPassword(req, res, services, password);
}

/**
 * Always ask for the password (removing a method). Wrong passwords count per session
 * (services/login.ts `reauthenticate`), so no stranger can stop the owner confirming a change.
 */
export async function checkPassword(req: Request, res: Response, services: Services, password: unknown): Promise<ReauthResult> {
  const { user, session } = state(res);
  if (!user || !session) return { ok: false, status: 401, message: 'Log in again.' };
  if (typeof password !== 'string' || password.length === 0) return { ok: false, status: 400, message: 'Enter your password to confirm.' };
  if (password.length > PASSWORD_MAX_LENGTH) return { ok: false, status: 400, message: 'That password is too long.' };
  const result = await services.login.reauthenticate({ user, session, password }, requestOrigin(req));
  if (!result.ok) {
    if (result.retryAfterSeconds !== undefined) res.set('Retry-After', String(result.retryAfterSeconds));
    return result;
  }
  // The request's own copy of the session too: a page rendered later in this request (a refusal after the
  // password was accepted) knows the window is open again and does not ask for the password once more.
  res.locals.state.session = { ...session, authenticated_at: await services.sessions.markAuthenticated(session.id) };
  return { ok: true };
}
