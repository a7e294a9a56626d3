/** Errors the PostgreSQL pool passed on (see {@link fromDatabase}). */
const DATABASE_ERRORS = new WeakSet<object>();

/**
 * Marks an error as the PostgreSQL pool's (discard-lost-connections.ts marks every error of a connect or a
 * query), and passes it on. Only a marked error's socket code counts: an ECONNRESET or ECONNABORTED can
 * also be the browser's connection to this server, which is no reason to answer "the database is away".
 */
export function fromDatabase(error: unknown): unknown {
  if (typeof error === 'object' && error !== null) DATABASE_ERRORS.add(error);
  return error;
}

/** Whether the PostgreSQL pool passed `error` on (see {@link fromDatabase}). */
export function isFromDatabase(error: unknown): boolean {
  return typeof error === 'object' && error !== null && DATABASE_ERRORS.has(error);
}

/**
 * Socket errors of a connection to PostgreSQL that could not be made or was lost: the server is down,
 * restarting or failing over, or the network or a proxy between is. ENOTFOUND and EAI_AGAIN too: the name
 * resolved when the server started (it could not have started otherwise), so its failing now is the DNS or
 * the database's service record being briefly away, not a typo.
 */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * SQLSTATEs that say the database cannot serve this session now but will soon:
 * class 08 (connection exception: the connection failed or was refused, also what PgBouncer sends when it
 * cannot reach the server), 57P01 admin_shutdown (a restart or failover ended the session), 57P02
 * crash_shutdown (another backend crashed and PostgreSQL is restarting them all), 57P03 cannot_connect_now
 * (starting up, or in recovery), 57P05 idle_session_timeout (the session was closed; a new one will do), 53300
 * too_many_connections (other clients hold every slot; one will free).
 *
 * Not here, so still 500s (an operator has to act; retrying in seconds will not help, and a 503 would hide
 * them from alerts watching 5xx other than 503): 57P04 database_dropped, 3D000/28000/28P01 (the database or
 * role gone, a changed password), 53100 disk_full, 53200 out_of_memory, 25P03 and 57014 (the server's own
 * transaction idled or ran past a timeout: a fault of the request), 58xxx (I/O errors).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1235]|53300)$/;

/**
 * pg's and Kysely's own errors for a connection that is gone, which carry no code: the socket ended
 * ("Connection terminated unexpectedly"), a query on a client that already lost it, Kysely's refusal of a
 * connection it discarded after a failed ROLLBACK, and a query sent while the server is shutting down.
 */
const LOST_CONNECTION_MESSAGES: readonly [RegExp, string][] = [
  [/^Connection terminated/, 'connection terminated'],
  [/^Client has encountered a connection error and is not queryable$/, 'connection lost'],
  [/^Client was closed and is not queryable$/, 'connection closed'],
  [/^Postgres connection has been discarded$/, 'connection discarded'],
  [/^Cannot use a pool after calling end on the pool$/, 'shutting down'],
  [/^timeout exceeded when trying to connect$/, 'connect timeout'],
];

/**
 * Whether `error` says the database is briefly unavailable — answered 503 with `Retry-After`, not 500 — and if
 * so a short label of why for the log: a code (`PostgreSQL 57P01`, `ECONNREFUSED`, `SQLITE_BUSY`) or one of
 * the fixed labels above, never the error's own message or detail (a DatabaseError's detail can name rows
 * and values; ASVS V7.1.1). `null` for anything else.
 *
 * SQLite: SQLITE_BUSY (and its extended codes) after the busy timeout — another process (the admin CLI, a
 * backup, a second instance) held the write lock for seconds; it will let go. Not SQLITE_IOERR, SQLITE_FULL,
 * SQLITE_READONLY, SQLITE_CORRUPT or SQLITE_CANTOPEN: a disk or file the operator must see to, a real 500.
 */
export function databaseUnavailable(error: unknown): string | null {
  return reasonOf(error, isFromDatabase(error), 0);
}

function reasonOf(error: unknown, marked: boolean, depth: number): string | null {
  if (typeof error !== 'object' || error === null || depth > 3) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return marked ? code : null;
    if (/^SQLITE_BUSY(_|$)/.test(code)) return code;
    // SQLSTATE: five characters, digits and upper-case letters.
    if (/^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code) ? `PostgreSQL ${code}` : null;
  }
  // Node's connection to a name with several addresses (IPv4 and IPv6) fails with an AggregateError of each
  // try's error; pg-pool's connection timeout wraps the socket's error as its `cause`.
  const inner = [...(error instanceof AggregateError ? error.errors : []), (error as { cause?: unknown }).cause];
  for (const candidate of inner) {
    const reason = reasonOf(candidate, marked, depth + 1);
    if (reason !== null) return reason;
  }
  if (typeof message === 'string') {
    for (const [pattern, label] of LOST_CONNECTION_MESSAGES) if (pattern.test(message)) return label;
  }
  return null;
}
