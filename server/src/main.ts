import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createApp } from './app.js';
import { clientErrorHandler, connectHandler, expectationHandler, requireHost } from './client-error.js';
import { ConfigError, loadConfig, REQUEST_TIMEOUT_MS, type Config } from './config.js';
import { isHttps } from './routes/http.js';
import type { Services } from './services/index.js';

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  /** Where this instance delivers mail (SMTP host or the .eml directory). */
  mailDestination: string;
  /** Set when the mail configuration is wrong for production (printed as a warning at start). */
  mailWarning: string | null;
  close(): Promise<void>;
}

/** A client's time to send a request's headers (Node's default is 60 s); never more than the whole request's. */
const HEADERS_TIMEOUT_MS = 20_000;
/** How often Node looks for requests past their timeouts. */
const CONNECTIONS_CHECK_MS = 5_000;

/** How long requests in flight get to finish when the server stops. */
const CLOSE_GRACE_MS = 2_000;

/** Create the app and listen on config.host (default 127.0.0.1) and config.port (0 = any free port). */
export async function startServer(config: Config): Promise<RunningServer> {
  const latchkey = await createApp(config);
  const host = config.host ?? '127.0.0.1';
  const answers = { hsts: isHttps(config) };
  const server = await new Promise<Server>((resolve, reject) => {
    // Node's own Host check answers a bare, empty 400: requireHost answers it with the security headers.
    // A whole request within the timeout, its headers within 20 s of it; the connections are checked for it every
    // few seconds (Node's 30 s check would let a 30 s limit run to a minute).
    const requestTimeout = config.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    const listening = createServer(
      {
        requireHostHeader: false,
        requestTimeout,
        headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout),
        connectionsCheckingInterval: Math.max(100, Math.min(CONNECTIONS_CHECK_MS, requestTimeout / 4)),
      },
      requireHost(answers, latchkey.app),
    );
    // Requests Node's parser refuses (431, 400, 408) never reach Express: answer them with the security headers too.
    listening.on('clientError', clientErrorHandler(answers));
    // So are an unsupported `Expect` (Node's bare 417) and CONNECT (Node closed the connection without a word).
    listening.on('checkExpectation', expectationHandler(answers));
    listening.on('connect', connectHandler(answers));
    // As Express's app.listen did: a failure to listen rejects (a later 'error' finds the promise settled).
    listening.once('error', reject);
    listening.listen(config.port, host, () => resolve(listening));
  }).catch(async (error: unknown) => {
    await latchkey.close();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    services: latchkey.services,
    mailDestination: latchkey.mailDestination,
    mailWarning: latchkey.mailWarning,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        // Requests in flight may finish (so none meets a closed database); idle keep-alive
        // connections are swept as they appear, and whatever is still open after the grace period is cut.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearInterval(sweep);
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }).then(() => latchkey.close())),
  };
}

/**
 * Start from the command line (bin/latchkey-server.cjs, or this file run directly): configuration from the
 * environment, stop on SIGINT/SIGTERM; a failure to start is printed and exits non-zero.
 */
export function runFromCommandLine(): void {
  main().catch((error: unknown) => {
    console.error(`Latchkey failed to start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = await loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Latchkey cannot start: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  // Never the key itself: where it is and what to do about it.
  if (config.secretKeyWarning) console.warn(`Warning: ${config.secretKeyWarning}`);
  const server = await startServer(config).catch((error: unknown) => {
    throw new Error(describeListenFailure(error, config));
  });
  console.log(`Latchkey listening on ${server.url} (public origin ${config.origin}, database ${describeDatabaseUrl(config.databaseUrl)})`);
  console.log(`Mail goes to ${server.mailDestination}`);
  if (server.mailWarning) console.warn(`WARNING: ${server.mailWarning}`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/**
 * What went wrong when the server could not listen, naming the variables to change: a bad HOST used to
 * print only "getaddrinfo ENOTFOUND 999.1.1.1". Any other failure keeps its own message.
 */
export function describeListenFailure(error: unknown, config: Pick<Config, 'host' | 'port'>): string {
  const message = error instanceof Error ? error.message : String(error);
  const syscall = (error as NodeJS.ErrnoException | null)?.syscall;
  if (syscall !== 'listen' && syscall !== 'getaddrinfo') return message;
  const where = `${config.host ?? '127.0.0.1'}:${config.port}`;
  return `cannot listen on ${where} (HOST and PORT set it): ${message}`;
}

/**
 * The database URL for the start-up line, without credentials (never log passwords): SQLite's path, or
 * PostgreSQL's user, host, database and `?schema=` — two servers on one database differ only there.
 * No other query parameter is shown: libpq-style URLs may carry `?password=`.
 */
export function describeDatabaseUrl(databaseUrl: string): string {
  if (databaseUrl.startsWith('sqlite:')) return databaseUrl;
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  return `${url.protocol}//${url.username ? `${url.username}@` : ''}${url.host}${url.pathname}${schema === null ? '' : `?schema=${encodeURIComponent(schema)}`}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runFromCommandLine();
