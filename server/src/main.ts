import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createApp } from './app.js';
import { clientErrorHandler, connectHandler, expectationHandler, requireHost } from './client-error.js';
import { ConfigError, loadConfig, REQUEST_TIMEOUT_MS, type Config } from './config.js';
import { isFromDatabase } from './db/database-unavailable.js';
import { DatabaseLocationError, DatabaseUrlError } from './db/open-database.js';
import { isHttps } from './routes/http.js';
import type { Services } from './services/index.js';
import { KEY_MISMATCH } from './services/key-check.js';

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  /** Where this instance delivers mail (SMTP host or the .eml directory). */
  mailDestination: string;
  /** Set when the mail configuration is wrong for production (printed as a warning at start). */
  mailWarning: string | null;
  /**
   * Stops taking connections, lets requests in flight finish for up to {@link CLOSE_GRACE_MS}, cuts what is
   * still open then, and closes the database.
   */
  close(): Promise<void>;
  /** {@link close}, resolving with what happened, for the shutdown's log line. */
  shutdown(): Promise<CloseSummary>;
}

/** How a {@link RunningServer.close} went. */
export interface CloseSummary {
  /** From the call to the database closed. */
  ms: number;
  /** Client connections open when it began (idle keep-alive ones included). */
  openAtStart: number;
  /** Connections still open when the grace ran out, cut (a request in flight on one gets a reset). */
  cut: number;
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
  // Counted here rather than asked of Node (getConnections is asynchronous): the shutdown's log line says how many were open.
  const connections = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  let closing: Promise<CloseSummary> | null = null;
  const shutdown = () =>
    (closing ??= (async () => {
      const started = Date.now();
      const openAtStart = connections.size;
      let cutCount = 0;
      await new Promise<void>((resolve) => {
        // Requests in flight may finish (so none meets a closed database); idle keep-alive
        // connections are swept as they appear, and whatever is still open after the grace period is cut.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        const cut = setTimeout(() => {
          cutCount = connections.size;
          server.closeAllConnections();
        }, CLOSE_GRACE_MS);
        server.close(() => {
          clearInterval(sweep);
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      await latchkey.close();
      return { ms: Date.now() - started, openAtStart, cut: cutCount };
    })());
  return {
    url: `http://${urlHost}:${port}`,
    port,
    services: latchkey.services,
    mailDestination: latchkey.mailDestination,
    mailWarning: latchkey.mailWarning,
    close: () => shutdown().then(() => undefined),
    shutdown,
  };
}

/**
 * Start from the command line (bin/latchkey-server.cjs, or this file run directly): configuration from the
 * environment, stop on SIGINT/SIGTERM; a failure to start is printed and exits non-zero.
 */
export function runFromCommandLine(): void {
  main().catch((error: unknown) => {
    console.error(`Latchkey failed to start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(EXIT_START_FAILED);
  });
}

/**
 * Exit code of a start that the server refused: a setting must change before it can start (ConfigError, a
 * DATABASE_URL it cannot use, a database or role that is not there or a wrong password, a secret key that is
 * not the database's). The admin CLI exits 2 for the same. Said as "Latchkey cannot start: …".
 */
export const EXIT_CONFIGURATION_REFUSED = 2;
/**
 * Exit code of a start that failed with settings that may be right: PostgreSQL unreachable or starting up,
 * the port taken, a migration failing, anything unexpected. Starting again later may work. Said as
 * "Latchkey failed to start: …".
 */
export const EXIT_START_FAILED = 1;

async function main(): Promise<void> {
  let config: Config;
  try {
    config = await loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Latchkey cannot start: ${error.message}`);
      process.exit(EXIT_CONFIGURATION_REFUSED);
    }
    throw error;
  }
  // Never the key itself: where it is and what to do about it.
  if (config.secretKeyWarning) console.warn(`Warning: ${config.secretKeyWarning}`);
  // Settings that run but may not be what was meant (an unknown NODE_ENV, an origin where keys cannot work).
  for (const warning of config.warnings ?? []) console.warn(`Warning: ${warning}`);
  let server: RunningServer;
  try {
    server = await startServer(config);
  } catch (error) {
    const failure = describeStartFailure(error, config);
    console.error(failure.line);
    process.exit(failure.exitCode);
  }
  console.log(`Latchkey listening on ${server.url} (public origin ${config.origin}, database ${describeDatabaseUrl(config.databaseUrl)})`);
  console.log(`Mail goes to ${server.mailDestination}`);
  if (server.mailWarning) console.warn(`WARNING: ${server.mailWarning}`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // A line when it begins and when it ends, so an operator reading the log sees a stop was asked for and
    // how it went: a requests' reset (cut > 0) means the proxy still sent traffic (docs/server.md, "Stopping").
    console.log(`Latchkey stopping (${signal}): no new connections; requests in flight get up to ${CLOSE_GRACE_MS / 1000} s to finish`);
    void server.shutdown().then(
      ({ ms, openAtStart, cut }) => {
        console.log(
          `Latchkey stopped in ${ms} ms: ${openAtStart} client connection${openAtStart === 1 ? ' was' : 's were'} open, ` +
            `${cut} still open after the grace ${cut === 1 ? 'was' : 'were'} cut`,
        );
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`Latchkey stopped, but not cleanly: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(EXIT_START_FAILED);
      },
    );
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
 * PostgreSQL's refusals that name a setting of DATABASE_URL to change: 3D000 invalid_catalog_name (no such
 * database), 28000 invalid_authorization_specification (no such role, or pg_hba.conf lets it not in), 28P01
 * invalid_password. What to check for each, and for the failures a retry may cure.
 */
const DATABASE_ADVICE: Record<string, { refused: boolean; advice: string }> = {
  '3D000': { refused: true, advice: 'Check the database name in DATABASE_URL, or create the database.' },
  '28000': { refused: true, advice: "Check the user name in DATABASE_URL, and that PostgreSQL's pg_hba.conf lets it connect from this host." },
  '28P01': { refused: true, advice: 'Check the user name and password in DATABASE_URL (special characters in the password percent-encoded).' },
  ECONNREFUSED: { refused: false, advice: 'Check that PostgreSQL is running and listening at the host and port DATABASE_URL names.' },
  ENOTFOUND: { refused: false, advice: 'Check the host name in DATABASE_URL.' },
  EAI_AGAIN: { refused: false, advice: 'The host name in DATABASE_URL could not be looked up just now: check it, and the DNS.' },
  ETIMEDOUT: { refused: false, advice: 'Check the host and port in DATABASE_URL, and that no firewall drops the connection.' },
  EHOSTUNREACH: { refused: false, advice: 'Check the host in DATABASE_URL, and the network to it.' },
  ENETUNREACH: { refused: false, advice: 'Check the host in DATABASE_URL, and the network to it.' },
  '57P03': { refused: false, advice: 'PostgreSQL is starting up or in recovery: start the server again in a moment.' },
  '53300': { refused: false, advice: "PostgreSQL has no connection free (max_connections): start the server again in a moment, or raise PostgreSQL's limit." },
};

/** The error's code, or that of the first inner error that has one (Node's AggregateError of each address tried, pg-pool's timeout). */
function codeOf(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 3) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  for (const inner of [...(error instanceof AggregateError ? error.errors : []), (error as { cause?: unknown }).cause]) {
    const found = codeOf(inner, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The one line printed when the server does not start, and its exit code ({@link EXIT_CONFIGURATION_REFUSED} or
 * {@link EXIT_START_FAILED}). A failure to reach or log in to PostgreSQL names DATABASE_URL, shown with its password
 * masked, and what to check: it used to print only pg's "connect ECONNREFUSED 127.0.0.1:5432" or
 * 'database "x" does not exist'.
 */
export function describeStartFailure(error: unknown, config: Pick<Config, 'host' | 'port' | 'databaseUrl'>): { line: string; exitCode: number } {
  const message = error instanceof Error ? error.message : String(error);
  const refused = (reason: string) => ({ line: `Latchkey cannot start: ${reason}`, exitCode: EXIT_CONFIGURATION_REFUSED });
  const failed = (reason: string) => ({ line: `Latchkey failed to start: ${reason}`, exitCode: EXIT_START_FAILED });
  if (error instanceof ConfigError || error instanceof DatabaseUrlError || error instanceof DatabaseLocationError || message === KEY_MISMATCH) {
    return refused(message);
  }
  if (isFromDatabase(error)) {
    const code = codeOf(error);
    const known = code === undefined ? undefined : DATABASE_ADVICE[code];
    // Node's AggregateError (a host name with several addresses) has no message of its own.
    const said = message === '' ? (code ?? 'no answer') : code === undefined || message.includes(code) ? message : `${message} (${code})`;
    const where = `PostgreSQL at DATABASE_URL ${maskDatabaseUrl(config.databaseUrl)}`;
    // A statement's error (a permission, say) came after the connection was made: not "cannot connect".
    // (A SQLSTATE: five characters, no class of which starts with E, as Node's EPIPE does.)
    const statementError = known === undefined && code !== undefined && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code) && !code.startsWith('08');
    const reason = statementError
      ? `${where} refused the start: ${said}.`
      : `cannot connect to ${where}: ${said}. ${known?.advice ?? 'Check DATABASE_URL, and that PostgreSQL is running and reachable from this host.'}`;
    return known?.refused ? refused(reason) : failed(reason);
  }
  return failed(describeListenFailure(error, config));
}

/**
 * DATABASE_URL as given, its password (in the URL or as `?password=`) replaced by `****`: enough to see which
 * host, user, database and settings were used, and that a password was given.
 */
export function maskDatabaseUrl(databaseUrl: string): string {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) return databaseUrl;
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return '(not a valid URL)';
  }
  if (url.password) url.password = '****';
  if (url.searchParams.has('password')) url.searchParams.set('password', '****');
  return url.toString().replace(/%2A%2A%2A%2A/gi, '****');
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
