import { STATUS_CODES } from 'node:http';
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

function answerAfterInFlight(socket: HttpSocket, status: number, options: { hsts: boolean }): void {
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
export function clientErrorResponse(status: number, options: { hsts: boolean }): string {
  const body = `${status} ${STATUS_CODES[status] ?? 'Error'}\n\n${MESSAGES[status] ?? MESSAGES[400]}\n`;
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    `Date: ${new Date().toUTCString()}`,
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options: nosniff',
    'X-Frame-Options: DENY',
    `Referrer-Policy: ${REFERRER_POLICY}`,
    'Cross-Origin-Resource-Policy: same-origin',
    ...(options.hsts ? [`Strict-Transport-Security: max-age=${HSTS.maxAge}${HSTS.includeSubDomains ? '; includeSubDomains' : ''}`] : []),
    'Cache-Control: no-store',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}
