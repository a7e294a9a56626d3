import { isIP } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { VNode } from 'preact';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { SessionRow, User } from '../db/schema.js';
import type { RequestOrigin } from '../services/events.js';
import type { Flash } from '../services/sessions.js';
import type { PageContext } from '../views/layout.js';
import { renderDocument, renderPage, type PageComponent } from '../views/render.js';

/** Per-request state set by the session middleware. */
export interface RequestState {
  /** The value of the session cookie: a live session's token, or an anonymous visitor's random token. */
  cookieToken: string;
  session: SessionRow | null;
  user: User | null;
  /** The synchronizer token every form on this page carries. */
  csrfToken: string;
  /** This browser was logged in, and that session has ended elsewhere or timed out (see loadSession). */
  sessionEnded?: boolean;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      state: RequestState;
    }
  }
}

export function state(res: Response): RequestState {
  return res.locals.state;
}

/** The logged-in user; only call behind {@link requireUser}. */
export function currentUser(res: Response): { user: User; session: SessionRow } {
  const { user, session } = res.locals.state;
  if (!user || !session) throw new Error('currentUser() called without requireUser');
  return { user, session };
}

/** Cookie names: the `__Host-` prefix (Secure, no Domain, Path=/) whenever the origin is https. */
export function cookieNames(config: Config): { session: string; device: string; signedIn: string } {
  const secure = isHttps(config);
  const name = (base: string) => (secure ? `__Host-${base}` : base);
  return { session: name('latchkey_session'), device: name('latchkey_device'), signedIn: name('latchkey_signed_in') };
}

export function cookieOptions(config: Config, maxAgeMs?: number) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: isHttps(config),
    path: '/',
    ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
  };
}

export function isHttps(config: Config): boolean {
  return config.origin.startsWith('https:');
}

/**
 * IP and user agent for events and per-address limits (IPv4-mapped IPv6 folded to plain IPv4).
 * `req.ip` is the socket address, or with LATCHKEY_TRUST_PROXY the forwarded one that many hops back;
 * a forwarded value is used only when it parses as an IP address (`net.isIP`), else the socket's:
 * "X-Forwarded-For: not-an-ip:…" once became a rate-limit key of the client's choosing (issue 14 point 3).
 * An entry with a port (`ip:port`, `[v6]:port`) has had it stripped before this (`forwarded-for.ts`).
 */
export function requestOrigin(req: Request): RequestOrigin {
  const forwarded = req.ip;
  const ip = forwarded && isIP(forwarded) ? forwarded : (req.socket.remoteAddress ?? null);
  const userAgent = req.get('user-agent') ?? null;
  return { ip: ip?.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip, userAgent: userAgent ? userAgent.slice(0, 512) : null };
}

/** What the layout needs. */
export function pageContext(res: Response, flash: Flash | null = null): PageContext {
  const { csrfToken, user } = res.locals.state;
  return { csrfToken, username: user?.username ?? null, flash };
}

/**
 * Send a server-rendered page: a page component and its props (rendered once per shape, with this request's
 * strings spliced in — views/render.ts renderPage), or an already built tree. Pages are personal, so no
 * browser or proxy may store them.
 */
export function sendPage<P extends object>(res: Response, status: number, Page: PageComponent<P>, props: P): void;
export function sendPage(res: Response, status: number, page: VNode): void;
export function sendPage<P extends object>(res: Response, status: number, page: VNode | PageComponent<P>, props?: P): void {
  const html = typeof page === 'function' ? renderPage(page, props!) : renderDocument(page);
  res.status(status).set('Cache-Control', 'no-store').type('html').send(html);
}

/** A 429 says when to come back (RFC 9110 Retry-After), besides the message on the page. */
export function setRetryAfter(res: Response, result: { kind: string; retryAfterSeconds?: number }): void {
  if (result.kind === 'blocked' && result.retryAfterSeconds !== undefined) res.set('Retry-After', String(result.retryAfterSeconds));
}

/** `{fail:{errors:[…]}}` — the JSON error shape (DESIGN.md section 2). */
export function sendJsonFailure(res: Response, status: number, errors: string[], about: { field?: string; restart?: string } = {}): void {
  res
    .status(status)
    .set('Cache-Control', 'no-store')
    .json({ fail: { errors, ...about } });
}

/** Did the client send or ask for JSON (the WebAuthn endpoints)? */
export function wantsJson(req: Request): boolean {
  return Boolean(req.is('application/json')) || req.accepts(['html', 'json']) === 'json';
}

/** Each request's parsed query string: Express 5 parses `req.query` anew on every read. */
const parsedQueries = new WeakMap<Request, Record<string, unknown>>();

/**
 * For a GET whose handler changes something (uses up the one showing of recovery codes, verifies an address):
 * Express runs it for HEAD too, so a link checker, mail scanner, proxy or extension sending HEAD would make the
 * change, and the person's own click then found it done. HEAD gets the headers alone and changes nothing (RFC 9110
 * §9.3.2: HEAD is safe; its answer need not be the page's). True when it answered.
 */
export function answeredHeadUnchanged(req: Request, res: Response): boolean {
  if (req.method !== 'HEAD') return false;
  res.status(200).set('Cache-Control', 'no-store').type('html').end();
  return true;
}

/** A single query-string value, or null for missing / repeated / non-string values. */
export function queryValue(req: Request, name: string): string | null {
  let query = parsedQueries.get(req);
  if (!query) {
    query = req.query as Record<string, unknown>;
    parsedQueries.set(req, query);
  }
  const value = query[name];
  return typeof value === 'string' ? value : null;
}

/**
 * Only same-site relative paths are accepted as `next` (ASVS V5.1.5: no open redirects):
 * one leading slash, no scheme, no `//host`, no backslashes or control characters.
 */
export function safeNext(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) return null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters in a redirect target is the point (ASVS 5.1.5).
  if (!value.startsWith('/') || value.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(value)) return null;
  const base = 'http://latchkey.invalid';
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return null;
  }
  if (url.origin !== base) return null;
  const path = `${url.pathname}${url.search}`;
  // Dot segments can normalise into a scheme-relative URL ("/.//evil.example" → "//evil.example").
  return path.startsWith('//') ? null : path;
}

/**
 * C0 and C1 control characters (and DEL), which no field of any form here has a use for: the pages have
 * no multi-line field (the one `<textarea>` is read-only), so not even a line break is legitimate.
 * PostgreSQL refuses U+0000 in text outright (a 500 before this check), and the others would be stored,
 * shown and logged invisibly (OWASP ASVS V5.1.3/V5.1.4: validate input against an allow-list of what
 * the field can hold, refuse the rest with a message).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * What a field may hold besides printable text. `keepControlCharacters`: the field never reaches SQL, a
 * page or a log as typed, so it keeps every character — a password that is only compared with an existing
 * hash (login, confirming a change: one set before control characters were refused must still log in),
 * and `next`, which {@link safeNext} reads and drops when it holds one (a crafted link then logs in to the
 * account page instead of failing the login over a hidden field).
 */
export interface TextFieldOptions {
  keepControlCharacters?: boolean;
}

function controlCharacterMessage(label: string): string {
  return `${capitalize(label)} cannot contain control characters (such as a NUL byte, a tab or a line break).`;
}

/** The one check every text field read from a form or JSON body goes through (see {@link CONTROL_CHARACTERS}). */
export function withoutControlCharacters<Schema extends z.ZodType<string | undefined>>(schema: Schema, label: string, options: TextFieldOptions = {}) {
  if (options.keepControlCharacters) return schema;
  return schema.refine((value) => value === undefined || !CONTROL_CHARACTERS.test(value), controlCharacterMessage(label));
}

/** A required, single text field with a clear message when missing, repeated, too long or holding control characters. */
export function textField(label: string, maxLength: number, emptyMessage = `Enter ${label}.`, options: TextFieldOptions = {}) {
  const text = z
    .string({ error: (issue) => (issue.input === undefined ? emptyMessage : `${capitalize(label)} must be a single text value.`) })
    .max(maxLength, `${capitalize(label)} is too long (at most ${maxLength} characters).`);
  return withoutControlCharacters(text, label, options).refine((value) => value.trim().length > 0, emptyMessage);
}

/** An optional single text field ('' when missing), with the same refusals as {@link textField}. */
export function optionalTextField(label: string, maxLength: number, options: TextFieldOptions = {}) {
  const text = z
    .string({ error: `${capitalize(label)} must be a single text value.` })
    .max(maxLength, `${capitalize(label)} is too long (at most ${maxLength} characters).`)
    .optional();
  return withoutControlCharacters(text, label, options).transform((value) => value ?? '');
}

export type FormResult<T> = { ok: true; data: T } | { ok: false; fieldErrors: Record<string, string> };

/**
 * A form's fields, built once at module load: Zod compiles an object schema on its first parse, so a
 * schema built per request paid that compile on every request (seen in the bench's CPU profile).
 */
export function formSchema<Shape extends z.ZodRawShape>(shape: Shape): z.ZodObject<Shape> {
  return z.object(shape);
}

/**
 * The request body as a set of fields: a body that is none (a JSON array, a string, nothing) reads as no
 * fields. A JSON array is an object too, and Zod's answer to it ("Invalid input: expected object, received
 * array") used to reach the page; this way every schema answers with its own field messages.
 */
export function bodyFields(req: Request): object {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
}

/** Validate a urlencoded (or JSON) body against a form's schema; one message per field. */
export function parseForm<Shape extends z.ZodRawShape>(req: Request, schema: z.ZodObject<Shape>): FormResult<z.output<z.ZodObject<Shape>>> {
  const result = schema.safeParse(bodyFields(req));
  if (result.success) return { ok: true, data: result.data };
  const fieldErrors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    fieldErrors[field] ??= issue.message;
  }
  return { ok: false, fieldErrors };
}

/** Wrap an async handler so a rejection reaches the central error handler (Express 5 does this too; explicit for clarity). */
export function handler(fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler {
  return (req, res, next) => {
    fn(req, res, next).catch(next);
  };
}

/**
 * Write `pieces` as the response body, waiting whenever the client reads slower than they come (the
 * socket's buffer full), then end it. A failure once the body has begun cannot become an error page
 * (the status is sent): the connection is cut, so the client sees a broken download, never a file that
 * looks whole. Before that, the error goes to the error handler as any other.
 */
export async function streamText(res: Response, pieces: AsyncIterable<string>): Promise<void> {
  try {
    for await (const piece of pieces) {
      if (res.destroyed) return;
      if (!res.write(piece)) await drainedOrClosed(res);
    }
    res.end();
  } catch (error) {
    if (!res.headersSent) throw error;
    res.destroy(error instanceof Error ? error : undefined);
  }
}

/** Until the socket takes more ('drain'), or the client has gone ('close': no 'drain' would ever come). */
function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The form values worth keeping on re-render: never passwords, codes or tokens. */
export function keepValues(req: Request, names: string[]): Record<string, string> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = body[name];
    // Control characters are refused (CONTROL_CHARACTERS): the form comes back without them, not with a NUL in an attribute.
    if (typeof value === 'string') values[name] = value.slice(0, 256).replace(new RegExp(CONTROL_CHARACTERS.source, 'g'), '');
  }
  return values;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
