/**
 * A deliberately low-level HTTP sender for hostile input: any method, any header value, any body bytes
 * (invalid UTF-8, wrong Content-Length-free chunking, megabyte bodies) — things a well-behaved client
 * such as fetch normalises away. Not a session client: the suites use the testing kit's for that.
 */
import { Agent, request } from 'node:http';

export interface RawRequest {
  method: string;
  /** Path plus query, sent as-is (may contain percent-encoded junk). */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** Send one request to `baseUrl` and read the whole answer (text). Rejects only on transport errors. */
export function sendRaw(baseUrl: string, req: RawRequest, { timeoutMs = 30_000 } = {}): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: req.headers,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`timeout after ${timeoutMs} ms: ${req.method} ${req.path}`)));
    outgoing.on('error', reject);
    if (req.body !== undefined) outgoing.write(req.body);
    outgoing.end();
  });
}

/** Close idle keep-alive sockets (end of a suite). */
export function closeRawAgent(): void {
  agent.destroy();
}

/**
 * Signs that a server leaked internals into a response: a stack frame, a source path, an
 * exception class name. ASVS V7.4.1: generic messages, no stack traces.
 */
export function leaksInternals(body: string): boolean {
  return /\n\s+at\s+\S+\s+\(|\bat\s+[\w$.<>]+\s+\(\/|node_modules\/|\/src\/\w[\w/-]*\.ts\b|\b(?:TypeError|ReferenceError|SyntaxError|RangeError): /.test(body);
}
