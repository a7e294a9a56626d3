import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { isDeletedAccountError } from '../services/accounts.js';
import { MessagePage } from '../views/message-page.js';
import { pageContext, sendJsonFailure, sendPage, wantsJson } from './http.js';

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

/** Every route of this site answers one of these: the pages are forms (GET, POST) and the API posts JSON. */
const ALLOWED_METHODS: readonly string[] = ['GET', 'HEAD', 'POST'];

/**
 * Any other method (PUT, DELETE, OPTIONS, TRACE…) is refused up front with 405 and the methods that work
 * (RFC 9110 §15.5.6), before sessions or CSRF: it used to reach the CSRF check and read as an expired form.
 */
export const methodNotAllowed: RequestHandler = (req, res, next) => {
  if (ALLOWED_METHODS.includes(req.method)) return next();
  res.set('Allow', ALLOWED_METHODS.join(', '));
  sendFailure(req, res, 405, 'Method not allowed', `This address does not accept ${req.method} requests.`);
};

export const notFound: RequestHandler = (req, res) => {
  sendFailure(req, res, 404, 'Page not found', 'There is no page at this address.');
};

/**
 * The one place errors end up: client errors get their 4xx and a clear message; anything else is
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
  if (status >= 400 && status < 500) {
    return sendFailure(req, res, status, 'Bad request', clientErrorMessage((error as { type?: unknown }).type, status));
  }
  const summary = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  console.error(`[latchkey] ${req.method} ${req.path} failed: ${summary}`);
  sendFailure(req, res, 500, 'Server error', 'Something went wrong on our side. Please try again in a moment.');
};

/** A failure as the client asked for it: `{fail: {errors: [message]}}` for JSON, else the error page. */
function sendFailure(req: Request, res: Response, status: number, title: string, message: string): void {
  if (wantsJson(req)) return sendJsonFailure(res, status, [message]);
  sendErrorPage(res, status, title, message);
}

/**
 * The error page, or — when rendering it fails too (a broken view, a JSX runtime missing) — the same
 * words as plain text. Without this fallback the error would reach Express's own final handler,
 * which prints the stack trace into the page outside production (ASVS V7.4.1).
 */
function sendErrorPage(res: Response, status: number, title: string, message: string): void {
  try {
    sendPage(res, status, MessagePage({ page: safePageContext(res), title, message }));
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
