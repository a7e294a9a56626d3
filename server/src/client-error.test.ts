import { EventEmitter } from 'node:events';
import { createServer, IncomingMessage, type Server } from 'node:http';
import { connect, Socket, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clientErrorHandler, connectHandler } from './client-error.js';
import type { RunningServer } from './main.js';
import { useTestServer } from './testing/http-harness.js';

/** Send raw bytes on a fresh connection; everything the server answers until it closes the connection. */
function exchange(port: number, request: string, { timeoutMs = 5_000 } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open; got so far: ${Buffer.concat(chunks).toString('latin1')}`));
    }, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    // A reset after the answer is read still counts: what matters is what arrived.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

interface RawResponse {
  statusLine: string;
  headers: Map<string, string>;
  body: string;
}

function parse(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { statusLine, headers, body: raw.slice(end + 4) };
}

function expectSecurityHeaders(response: RawResponse): void {
  expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('x-frame-options')).toBe('DENY');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('connection')).toBe('close');
  expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  expect(response.headers.get('date')).toMatch(/ GMT$/);
  expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(response.body));
}

const SECRET = 'sk-cookie-that-must-never-be-logged';

describe('requests Node refuses before Express, on the real server (main.ts)', () => {
  let server: RunningServer;
  useTestServer('sqlite', (started) => {
    server = started;
  });
  let logged: ReturnType<typeof vi.spyOn>[] = [];
  beforeEach(() => {
    logged = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) => vi.spyOn(console, level));
  });
  afterEach(() => {
    // Nothing of the request (its headers may hold cookies or tokens) is logged — nothing at all, in fact.
    for (const spy of logged) expect(spy.mock.calls.flat().join(' ')).not.toContain(SECRET);
    vi.restoreAllMocks();
  });

  it('answers 20 000 bytes of headers with 431 and the security headers (it was a bare "431" with Connection: close only)', async () => {
    const raw = await exchange(server.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${SECRET}=${'a'.repeat(20_000)}\r\n\r\n`);
    const response = parse(raw);
    expect(response.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expectSecurityHeaders(response);
    expect(response.body).toBe("431 Request Header Fields Too Large\n\nThe request headers are too large. Clear this site's cookies and try again.\n");
    expect(raw).not.toContain(SECRET);
  });

  it('answers a malformed request line, and a malformed header, with 400 and the security headers', async () => {
    for (const request of ['NOT-HTTP AT ALL\r\n\r\n', `GET / HTTP/1.1\r\nHost 127.0.0.1\r\nX-Token: ${SECRET}\r\n\r\n`, 'GET /\u0001 HTTP/1.1\r\n\r\n']) {
      const raw = await exchange(server.port, request);
      const response = parse(raw);
      expect(response.statusLine, JSON.stringify(request)).toBe('HTTP/1.1 400 Bad Request');
      expectSecurityHeaders(response);
      expect(response.body).toBe('400 Bad Request\n\nThe request could not be understood.\n');
      expect(raw).not.toContain(SECRET);
    }
  });

  it('answers an earlier request of a kept-alive connection first, then the 400 (Node wrote its 400 in front of it)', async () => {
    const raw = await exchange(server.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nBROKEN\r\n\r\n');
    const statusLines = raw.match(/HTTP\/1\.1 \d{3} [^\r]*/g);
    expect(statusLines).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request']);
    expect(raw.match(/\{"ok":true\}/g)).toHaveLength(2);
  });

  it('answers a request whose own body breaks (a bad chunk) with 400 and closes, instead of holding it for ever', async () => {
    // The login form's body parser waits for a body that can no longer arrive. The handler used to wait for
    // that request's answer, which never came: no answer, and the connection and the request held for as long
    // as the client kept the socket open (Node's default answers 400 and closes at once).
    const request = `POST /account/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nCookie: ${SECRET}=1\r\n\r\n3\r\nabc\r\nZZ\r\n`;
    const raw = await exchange(server.port, request, { timeoutMs: 3_000 });
    const response = parse(raw);
    expect(response.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expectSecurityHeaders(response);
    expect(raw).not.toContain(SECRET);
  });

  it('answers an Expect other than 100-continue with 417, the security headers and a reason (Node answered a bare 417)', async () => {
    const raw = await exchange(server.port, `GET /account/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: bogus\r\nCookie: ${SECRET}=1\r\n\r\n`);
    const response = parse(raw);
    expect(response.statusLine).toBe('HTTP/1.1 417 Expectation Failed');
    expectSecurityHeaders(response);
    expect(response.body).toBe('417 Expectation Failed\n\nThis server supports only "Expect: 100-continue". Send the request without the Expect header.\n');
    expect(raw).not.toContain(SECRET);
  });

  it('still answers "Expect: 100-continue" with 100 Continue, then the request itself', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () =>
        socket.write(
          'POST /account/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
        ),
      );
      let received = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no complete answer; got so far: ${received}`));
      }, 5_000);
      socket.on('data', (chunk: Buffer) => {
        const before = received;
        received += chunk.toString('latin1');
        // The body goes only once the server said to send it, as a client that waits does.
        if (!before.includes('100 Continue') && received.includes('HTTP/1.1 100 Continue\r\n\r\n')) socket.write('a=b&c');
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(received);
      });
    });
    expect(raw.startsWith('HTTP/1.1 100 Continue\r\n\r\n')).toBe(true);
    const final = parse(raw.slice('HTTP/1.1 100 Continue\r\n\r\n'.length));
    // The app's own answer to the form (its CSP is the pages' one, from helmet), not a 417.
    expect(final.statusLine).toMatch(/^HTTP\/1\.1 (200|303|400|403) /);
    expect(final.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('answers an HTTP/1.1 request without Host with 400, the security headers and a reason (Node answered a bare, empty 400)', async () => {
    const raw = await exchange(server.port, `GET /account/login/ HTTP/1.1\r\nCookie: ${SECRET}=1\r\n\r\n`);
    const response = parse(raw);
    expect(response.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expectSecurityHeaders(response);
    expect(response.body).toBe('400 Bad Request\n\nThe request has no Host header (HTTP/1.1 requires one).\n');
    expect(raw).not.toContain(SECRET);
    // HTTP/1.0 has no such rule (nor had Node's check): still served.
    expect(parse(await exchange(server.port, 'GET /healthz HTTP/1.0\r\n\r\n')).statusLine).toBe('HTTP/1.1 200 OK');
  });

  it('answers CONNECT with 405, Allow, the security headers and a reason, then closes (Node closed without a byte)', async () => {
    const raw = await exchange(server.port, `CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\nProxy-Authorization: ${SECRET}\r\n\r\n`);
    const response = parse(raw);
    expect(response.statusLine).toBe('HTTP/1.1 405 Method Not Allowed');
    expectSecurityHeaders(response);
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(response.body).toBe('405 Method Not Allowed\n\nThis server is not a proxy: CONNECT is not supported.\n');
    expect(raw).not.toContain(SECRET);
  });

  it('keeps serving afterwards', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('a request sent too slowly (main.ts, Config.requestTimeoutMs)', () => {
  let server: RunningServer;
  useTestServer(
    'sqlite',
    (started) => {
      server = started;
    },
    { requestTimeoutMs: 1_000 },
  );

  it("is answered 408 with the security headers once its time is up, not held for Node's 300 s", async () => {
    const started = Date.now();
    // 12 of the 100 bytes the request announces, then nothing: a slow POST.
    const raw = await exchange(
      server.port,
      'POST /account/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=ab',
      {
        timeoutMs: 4_000,
      },
    );
    const response = parse(raw);
    expect(response.statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expectSecurityHeaders(response);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('clientErrorHandler', () => {
  let bare: Server | undefined;
  afterEach(() => {
    bare?.closeAllConnections();
    bare?.close();
    bare = undefined;
  });

  it('answers a request that did not arrive in time with 408 and the security headers', async () => {
    bare = createServer({ headersTimeout: 200, requestTimeout: 300, connectionsCheckingInterval: 50 }, (_req, res) => res.end('ok'));
    bare.on('clientError', clientErrorHandler({ hsts: false }));
    await new Promise<void>((resolve) => bare!.listen(0, '127.0.0.1', resolve));
    // Headers begun, never finished.
    const response = parse(await exchange((bare.address() as AddressInfo).port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
    expect(response.statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expectSecurityHeaders(response);
    expect(response.headers.has('strict-transport-security')).toBe(false);
  });

  it('answers a body that stops coming with 408 once Node gives up on it, and closes (its requestTimeout still holds)', async () => {
    // A slow sender: the headers promise 100 bytes, 3 come. Node's requestTimeout reports it here; the handler
    // used to wait for that very request's answer (it never comes: its body never ends), so the connection
    // stayed open for as long as the client liked, undoing the guard against slow senders.
    let handlerSawClose = false;
    bare = createServer({ headersTimeout: 200, requestTimeout: 300, connectionsCheckingInterval: 50 }, (req, res) => {
      req.on('data', () => undefined);
      req.on('end', () => res.end('ok'));
      req.on('close', () => {
        handlerSawClose = true;
      });
    });
    bare.on('clientError', clientErrorHandler({ hsts: false }));
    await new Promise<void>((resolve) => bare!.listen(0, '127.0.0.1', resolve));
    const raw = await exchange((bare.address() as AddressInfo).port, 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nabc', {
      timeoutMs: 3_000,
    });
    const response = parse(raw);
    expect(response.statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expectSecurityHeaders(response);
    await vi.waitFor(() => expect(handlerSawClose).toBe(true));
  });

  it('never writes its answer into a response already begun for the broken request: it only closes', () => {
    const handle = clientErrorHandler({ hsts: false });
    const socket = Object.assign(new PassThrough(), {
      _httpMessage: Object.assign(new EventEmitter(), { writableFinished: false, headersSent: true, req: { complete: false } }),
    });
    const end = vi.spyOn(socket, 'end');
    handle(Object.assign(new Error('bad chunk'), { code: 'HPE_INVALID_CHUNK_SIZE' }), socket);
    expect(end).not.toHaveBeenCalled();
    expect(socket.destroyed).toBe(true);
  });

  it('keeps a CONNECT socket that errors from ending the process (Node has taken its own error listener off it)', () => {
    const socket = new PassThrough();
    connectHandler({ hsts: false })(new IncomingMessage(new Socket()), socket);
    expect(() => socket.emit('error', new Error('read ECONNRESET'))).not.toThrow();
    expect(socket.destroyed).toBe(true);
  });

  it('adds HSTS when the site is served over https, as on every other answer', async () => {
    bare = createServer((_req, res) => res.end('ok'));
    bare.on('clientError', clientErrorHandler({ hsts: true }));
    await new Promise<void>((resolve) => bare!.listen(0, '127.0.0.1', resolve));
    const response = parse(await exchange((bare.address() as AddressInfo).port, 'BROKEN\r\n\r\n'));
    expect(response.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  });

  it('never writes to a socket that is not writable, answers a connection once, and never throws', () => {
    const handle = clientErrorHandler({ hsts: false });
    const gone = new PassThrough();
    gone.end();
    const write = vi.spyOn(gone, 'write');
    const destroy = vi.spyOn(gone, 'destroy');
    expect(() => handle(Object.assign(new Error('bad'), { code: 'HPE_INVALID_METHOD' }), gone)).not.toThrow();
    expect(write).not.toHaveBeenCalled();
    expect(destroy).toHaveBeenCalled();

    const reset = new PassThrough();
    const resetEnd = vi.spyOn(reset, 'end');
    handle(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), reset);
    expect(resetEnd).not.toHaveBeenCalled();
    expect(reset.destroyed).toBe(true);

    const open = new PassThrough();
    const end = vi.spyOn(open, 'end');
    handle(Object.assign(new Error('bad'), { code: 'HPE_INVALID_METHOD' }), open);
    handle(Object.assign(new Error('bad again'), { code: 'HPE_INVALID_METHOD' }), open);
    expect(end).toHaveBeenCalledTimes(1);

    const broken = new PassThrough();
    vi.spyOn(broken, 'end').mockImplementation(() => {
      throw new Error('boom');
    });
    expect(() => handle(Object.assign(new Error('bad'), { code: 'HPE_HEADER_OVERFLOW' }), broken)).not.toThrow();
    expect(broken.destroyed).toBe(true);
  });
});
