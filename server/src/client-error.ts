import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { HSTS, REFERRER_POLICY } from './security-headers.js';

/**
 * What Node's HTTP parser reports (`err.code`) and the status Node itself would answer with (its default
 * `clientError` behaviour, lib/_http_server.js `socketOnError`); anything else is a 400.
 */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/** Short and plain; never anything from the request (its headers may hold cookies or tokens). */
const MESSAGES: Readonly<Record<number, string>> = {
  400: 'The request could not be understood.',
  408: 'The request took too long to arrive.',
  413: 'The request is too large.',
  431: "The request headers are too large. Clear this site's cookies and try again.",
};

/**
 * A response Node is still writing on this connection (`socket._httpMessage`, as Node's own default reads it),
 * with its request (`res.req`) and whether its status line is out (`headersSent`).
 */
type HttpSocket = Duplex & {
  _httpMessage?: (NodeJS.EventEmitter & { writableFinished?: boolean; headersSent?: boolean; req?: { complete?: boolean } }) | null;
};

/**
 * Answers the requests Node refuses before Express sees them — headers over `maxHeaderSize` (431), a
 * malformed request line or header (400), a request that did not arrive in time (408) — with the site's
 * security headers, instead of Node's bare status line: a strict CSP (nothing loads, no framing),
 * `nosniff`, `X-Frame-Options`, `Referrer-Policy`, `no-store` (OWASP ASVS V14.4; DESIGN.md section 2), HSTS
 * over https as on every other answer, a `Date` (RFC 9110 §6.6.1) and `Connection: close`, since the
 * rest of the connection cannot be read.
 *
 * Node's documented `server.on('clientError')` pattern: nothing is written once the client has gone
 * (ECONNRESET) or the socket is no longer writable. One answer per connection (the parser reports every
 * later chunk as another error). A response to an earlier request on a kept-alive connection that is
 * still being written goes first (HTTP/1.1 answers in order, RFC 9112 §9.3.2; Node's own default would
 * write its 400 in front of it, where the client reads it as the earlier request's answer). Never throws
 * (it runs outside any request; a throw would end the process), and logs nothing: `err.rawPacket` holds
 * the request's bytes, cookies and all.
 */
export function clientErrorHandler(options: { hsts: boolean }): (error: Error & { code?: string }, socket: Duplex) => void {
  const answering = new WeakSet<Duplex>();
  return (error, socket) => {
    try {
      if (answering.has(socket)) return;
      if (error.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      answering.add(socket);
      answerAfterInFlight(socket, STATUS_BY_CODE[error.code ?? ''] ?? 400, options);
    } catch {
      socket.destroy();
    }
  };
}

function answerAfterInFlight(socket: HttpSocket, status: number, options: AnswerOptions): void {
  const inFlight = socket._httpMessage;
  const unfinished = inFlight && !inFlight.writableFinished ? inFlight : null;
  // The answer in flight is for the very request whose bytes broke or stopped coming (a bad chunk in its
  // body, a body still short when Node's requestTimeout struck): that body will never end, so neither will
  // the answer. Waiting for it held the connection and the request for as long as the client liked, Node's
  // requestTimeout (its guard against slow senders) undone. Answered now instead, as Node's own default does:
  // only if that response has not begun (a status line inside another answer would corrupt it), then closed.
  const ownRequestBroke = unfinished?.req?.complete === false;
  if (unfinished && !ownRequestBroke) {
    // 'close' follows 'finish' (Node has attached the next queued response by then) or a cut connection.
    unfinished.once('close', () => {
      try {
        answerAfterInFlight(socket, status, options);
      } catch {
        socket.destroy();
      }
    });
    return;
  }
  if (!socket.writable || unfinished?.headersSent) {
    socket.destroy();
    return;
  }
  // Closed once the answer is flushed (as Node does after any `Connection: close` response), so a client
  // that never closes its side cannot keep the socket.
  socket.end(clientErrorResponse(status, options), () => socket.destroy());
}

/** The raw HTTP/1.1 response (there is no request or response object at this point: Node's docs). */
export function clientErrorResponse(status: number, options: AnswerOptions): string {
  const { headers, body } = plainAnswer(status, options);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    `Date: ${new Date().toUTCString()}`,
    ...headers.map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export interface AnswerOptions {
  hsts: boolean;
  /** Instead of the status's own short message; plain words, never anything from the request. */
  message?: string;
  /** Headers this answer needs besides the security headers (a 405's `Allow`). */
  extra?: ReadonlyArray<readonly [string, string]>;
}

/**
 * The short plain-text answer and its headers (all but the status line and `Date`): the security headers
 * every other answer carries, `no-store`, `Connection: close`. Shared by the raw answers above and by those
 * main.ts writes through Node's response object (`Expect`, a missing `Host`), which adds `Date` itself.
 */
export function plainAnswer(status: number, options: AnswerOptions): { headers: Array<[string, string]>; body: string } {
  const body = `${status} ${STATUS_CODES[status] ?? 'Error'}\n\n${options.message ?? MESSAGES[status] ?? MESSAGES[400]}\n`;
  const headers: Array<[string, string]> = [
    ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ['Referrer-Policy', REFERRER_POLICY],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
    ...(options.hsts
      ? [['Strict-Transport-Security', `max-age=${HSTS.maxAge}${HSTS.includeSubDomains ? '; includeSubDomains' : ''}`] as [string, string]]
      : []),
    ...(options.extra ?? []).map(([name, value]) => [name, value] as [string, string]),
    ['Cache-Control', 'no-store'],
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(Buffer.byteLength(body))],
    ['Connection', 'close'],
  ];
  return { headers, body };
}

/** Answer through Node's response object; `Date` is Node's. Closed afterwards (`Connection: close`). */
function sendPlain(res: ServerResponse, status: number, options: AnswerOptions): void {
  const { headers, body } = plainAnswer(status, options);
  res.writeHead(status, Object.fromEntries(headers));
  res.end(body);
}

/**
 * The server's `checkExpectation` listener: an `Expect` other than `100-continue` (which Node still answers
 * itself, `100 Continue` then the request) is refused with 417 (RFC 9110 §10.1.1) and the security headers,
 * where Node's own 417 had none and no words (ASVS V14.4). Closed after: a body may follow that was never
 * meant to be read.
 */
export function expectationHandler(options: { hsts: boolean }): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    sendPlain(res, 417, { ...options, message: 'This server supports only "Expect: 100-continue". Send the request without the Expect header.' });
  };
}

/**
 * In front of the app, with the server created with `requireHostHeader: false`: an HTTP/1.1 request without
 * `Host` gets 400 (RFC 9112 §3.2 requires it) with the security headers and a reason, instead of Node's bare,
 * empty 400. The same rule as Node's own check (HTTP/1.1 only; an HTTP/1.0 request may omit it).
 */
export function requireHost(
  options: { hsts: boolean },
  next: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && req.headers.host === undefined) {
      sendPlain(res, 400, { ...options, message: 'The request has no Host header (HTTP/1.1 requires one).' });
      return;
    }
    next(req, res);
  };
}

/**
 * The server's `connect` listener: this is no proxy, so `CONNECT` gets 405 (its `Allow` names every method
 * any page here takes, RFC 9110 §15.5.6) with the security headers, then the connection is closed. Without
 * a listener Node closed it without a byte. Node has taken its own error listener off this socket by now: one
 * is added, or a reset here would end the process.
 */
export function connectHandler(options: { hsts: boolean }): (req: IncomingMessage, socket: Duplex) => void {
  return (_req, socket) => {
    socket.on('error', () => socket.destroy());
    try {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const answer = clientErrorResponse(405, {
        ...options,
        message: 'This server is not a proxy: CONNECT is not supported.',
        extra: [['Allow', 'GET, HEAD, POST']],
      });
      socket.end(answer, () => socket.destroy());
    } catch {
      socket.destroy();
    }
  };
}
