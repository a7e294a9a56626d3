import { ROUTES } from '@latchkey/shared';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { databaseUnavailable } from '../db/database-unavailable.js';
import { isTransientConflict } from '../db/in-transaction.js';
import { isDeletedAccountError } from '../services/accounts.js';
import { MessagePage } from '../views/message-page.js';
import { pageContext, sendJsonFailure, sendPage, wantsJson } from './http.js';
import { answers, type PathMethods, type RouteTable } from './route-table.js';

/** Messages for the client errors body-parser raises (too large, bad JSON, too many fields…). */
function clientErrorMessage(type: unknown, status: number): string {
  switch (type) {
    case 'entity.too.large':
      return 'What you sent is too large.';
    case 'entity.parse.failed':
      return 'What you sent is not valid JSON.';
    case 'parameters.too.many':
      return 'The form has too many fields.';
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return 'The request uses an unsupported character set or encoding.';
    case 'request.aborted':
      return 'The request was interrupted.';
    default:
      return status === 413 ? 'What you sent is too large.' : 'The request could not be understood.';
  }
}

/**
 * A method the path's routes do not answer gets 405 Method Not Allowed with `Allow` naming the ones they do
 * (RFC 9110 §15.5.6), not the 404 it used to get; the methods come from the routers (`RouteTable`), so
 * this cannot drift from the routes. Runs first, before sessions, body parsing or CSRF: a PUT used to reach
 * the CSRF check and read as an expired form, and a POST to a page that takes none now says so instead.
 * GET and HEAD pass (they change nothing; {@link methodNotAllowed} answers them after routing, with the
 * session, so the page shows who is logged in). A request for a path no route has is a 404 here whatever
 * its method: nothing there can take it. OPTIONS is refused like any other method: RFC 9110 §9.1 requires
 * only GET and HEAD, this site serves no cross-origin callers (a CORS preflight must fail, and does), and
 * the router's automatic OPTIONS answer would list one router's methods, not the path's.
 */
export function refuseUnroutedMethods(routes: RouteTable): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const entry = routes.lookup(req.path);
    if (!entry) return notFound(req, res, next);
    if (answers(entry, req.method)) return next();
    sendMethodNotAllowed(req, res, entry);
  };
}

/**
 * After every route: a GET or HEAD that no route took, on a path that exists for other methods (a POST-only
 * address opened in the browser), gets 405 and `Allow`; anything else goes on to {@link notFound}.
 */
export function methodNotAllowed(routes: RouteTable): RequestHandler {
  return (req, res, next) => {
    const entry = routes.lookup(req.path);
    if (!entry || answers(entry, req.method)) return next();
    sendMethodNotAllowed(req, res, entry);
  };
}

/**
 * The 405 itself: a page (or JSON, as the client asked) that says where to go. A JSON endpoint answers JSON
 * unless the client prefers HTML (a browser's address bar), as all its other errors are JSON.
 */
function sendMethodNotAllowed(req: Request, res: Response, entry: PathMethods): void {
  res.set('Allow', entry.methods.join(', '));
  const json = wantsJson(req) || (entry.json && req.accepts(['json', 'html']) !== 'html');
  // Methods other than GET and HEAD are refused before the session is loaded: who is asking is not known
  // there, so the answer points home rather than at a login page a logged-in person does not need.
  const state = res.locals.state as { user?: unknown } | undefined;
  const place =
    state === undefined
      ? { name: 'the home page', href: ROUTES.home }
      : state.user
        ? { name: 'your account page', href: ROUTES.manageAccount }
        : { name: 'the login page', href: ROUTES.login };
  const goThere = json ? `Go to ${place.name} (${place.href}) instead.` : `Go to ${place.name} instead.`;
  const refused = req.method === 'GET' || req.method === 'HEAD' ? 'it cannot be opened directly' : `it does not accept ${req.method} requests`;
  if (entry.methods.includes('GET')) {
    const form = entry.methods.includes('POST') ? ' and use its form' : '';
    const message = `This page does not accept ${req.method} requests. Open the page${form} instead.`;
    return sendFailure(req, res, 405, 'Method not allowed', message, { json, action: { href: entry.path, label: 'Open the page' } });
  }
  const sender = entry.json ? 'requests from' : 'form submissions from';
  sendFailure(req, res, 405, 'Method not allowed', `This address only takes ${sender} this site's pages; ${refused}. ${goThere}`, { json });
}

export const notFound: RequestHandler = (req, res) => {
  sendFailure(req, res, 404, 'Page not found', 'There is no page at this address.');
};

/** Seconds a client is asked to wait before trying again while the database is unavailable: a restart or failover takes a few. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * The one place errors end up: client errors get their 4xx and a clear message, a database that is briefly
 * unavailable a 503 with Retry-After; anything else is
 * logged (name, message, stack — never request bodies, cookies or secrets) and answered with a
 * plain 500 page. No stack trace ever reaches the client (ASVS V7.4.1).
 */
export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  const status = typeof (error as { status?: unknown })?.status === 'number' ? (error as { status: number }).status : 500;
  if (res.headersSent) {
    res.end();
    return;
  }
  if (isDeletedAccountError(error)) {
    // Its transaction rolled back; the account's sessions went with it.
    return sendFailure(req, res, 409, 'Account deleted', 'This account was deleted while your request was being handled. Nothing was changed.');
  }
  if (isTransientConflict(error)) {
    // PostgreSQL rolled the request's transaction back to settle a deadlock or a serialization failure with a
    // concurrent request (usually another of the same account: two tabs, a double submit), and it collided
    // again on every retry inTransaction made, or it was one statement outside a transaction. Nothing of it
    // was saved, and sending it again is safe: 409, the answer every "changed meanwhile" gets here, rather than
    // a 500 (nothing is broken) or a 503 (the server is not unavailable; the conflict was with another request).
    // A warning with the route's pattern and the code only: the error's detail names rows and values, and a
    // path can carry a token (a verification or reset link), so neither is logged (ASVS V7.1.1).
    const code = (error as { code: string }).code;
    const route = (req.route as { path?: unknown } | undefined)?.path;
    const where = typeof route === 'string' ? `${req.baseUrl}${route}` : '(no route)';
    console.warn(`[latchkey] ${req.method} ${where} conflicted with a concurrent request (PostgreSQL ${code}); answered 409, nothing saved`);
    return sendFailure(
      req,
      res,
      409,
      'Request not saved',
      'Another change to this account was being made at the same moment, and your request could not be completed. Nothing of it was saved. Please try again.',
    );
  }
  const unavailable = status === 500 ? databaseUnavailable(error) : null;
  if (unavailable !== null) {
    // The database could not be reached, or dropped the connection (a restart, a failover, a cut network,
    // every connection slot taken, SQLite's write lock held by another process past the busy timeout): see
    // db/database-unavailable.ts for which failures count and which stay 500s. Nothing is broken here, and
    // trying again in a few seconds usually works: 503 with Retry-After (RFC 9110 §15.6.4, §10.2.3), as
    // /healthz answers, so a proxy or a client can tell it from a fault. The message does not say "nothing
    // was saved": a connection lost during COMMIT may have committed, and a request's earlier transactions
    // did. One warning line, as for a conflict: the route's pattern (a path can carry a token) and the
    // code or a fixed label, never the error's message or detail (ASVS V7.1.1).
    const route = (req.route as { path?: unknown } | undefined)?.path;
    const where = typeof route === 'string' ? `${req.baseUrl}${route}` : '(no route)';
    console.warn(`[latchkey] ${req.method} ${where} could not use the database (${unavailable}); answered 503`);
    res.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
    return sendFailure(req, res, 503, 'Briefly unavailable', 'The service is briefly unavailable. Please try again in a few seconds.');
  }
  if (status >= 400 && status < 500) {
    return sendFailure(req, res, status, 'Bad request', clientErrorMessage((error as { type?: unknown }).type, status));
  }
  const summary = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  console.error(`[latchkey] ${req.method} ${req.path} failed: ${summary}`);
  sendFailure(req, res, 500, 'Server error', 'Something went wrong on our side. Please try again in a moment.');
};

/** A failure as the client asked for it (or `json` says): `{fail: {errors: [message]}}` for JSON, else the error page. */
function sendFailure(
  req: Request,
  res: Response,
  status: number,
  title: string,
  message: string,
  options: { json?: boolean; action?: { href: string; label: string } } = {},
): void {
  if (options.json ?? wantsJson(req)) return sendJsonFailure(res, status, [message]);
  sendErrorPage(res, status, title, message, options.action);
}

/**
 * The error page, or — when rendering it fails too (a broken view, a JSX runtime missing) — the same
 * words as plain text. Without this fallback the error would reach Express's own final handler,
 * which prints the stack trace into the page outside production (ASVS V7.4.1).
 */
function sendErrorPage(res: Response, status: number, title: string, message: string, action?: { href: string; label: string }): void {
  try {
    sendPage(res, status, MessagePage({ page: safePageContext(res), title, message, action }));
  } catch (renderError) {
    const summary = renderError instanceof Error ? `${renderError.name}: ${renderError.message}` : String(renderError);
    console.error(`[latchkey] the error page failed to render: ${summary}`);
    res.status(status).set('Cache-Control', 'no-store').type('text/plain').send(`${title}\n\n${message}\n`);
  }
}

/** Errors can happen before the session middleware ran; render without account details then. */
function safePageContext(res: Parameters<typeof pageContext>[0]) {
  return res.locals.state ? pageContext(res) : { csrfToken: '', username: null };
}
