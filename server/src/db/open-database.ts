import { mkdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { CurrentSchemaPostgresDialect } from './current-schema-postgres-dialect.js';
import { ImmediateSqliteDialect } from './immediate-sqlite-dialect.js';
import { discardLostConnections } from './discard-lost-connections.js';
import { withPreparedStatements } from './with-prepared-statements.js';

/** Where a `DATABASE_URL` points, parsed. */
export type DatabaseTarget =
  | { dialect: 'sqlite'; path: string }
  | {
      dialect: 'postgres';
      connectionString: string;
      schema: string | null;
      /** Named prepared statements (`?prepare=off` turns them off: a connection pooler that cannot keep them). */
      prepare: boolean;
      /**
       * The operator's own startup options, split into arguments as PostgreSQL splits them: the URL's
       * `options=` (taken out of `connectionString`), else the `PGOPTIONS` environment variable, as libpq and pg
       * choose between them. {@link openDatabase} passes them on with the server's settings after them.
       */
      options: string[];
      /**
       * libpq's connect_timeout (seconds), keepalives and keepalives_idle (seconds), taken out of the URL: pg
       * reads them from its own options, not from a connection string, where they were ignored without a word.
       */
      connectTimeoutMs?: number;
      keepAlive?: boolean;
      keepAliveInitialDelayMs?: number;
    };

/** A DATABASE_URL the server cannot use as written; the message names the setting and what to write instead. */
export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

/**
 * Parse `sqlite:PATH` (`sqlite::memory:` for an in-memory database) or `postgres://…`.
 * A `schema=NAME` query parameter on a PostgreSQL URL selects the schema (search_path), which is how
 * tests get a throw-away schema each; `prepare=off` sends every query unnamed (see with-prepared-statements.ts);
 * `options=` (PostgreSQL's startup options, e.g. `-c statement_timeout=5000`) is kept and combined with the
 * server's own settings (see {@link connectionOptions}). `environment` is where `PGOPTIONS` is read.
 */
export function parseDatabaseUrl(databaseUrl: string, environment: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    if (file === '') throw new DatabaseUrlError('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:/var/lib/latchkey/latchkey.db');
    return { dialect: 'sqlite', path: file };
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    let url: URL;
    try {
      url = new URL(databaseUrl);
    } catch {
      // Not the URL in the message: it can hold a password.
      throw new DatabaseUrlError(
        'DATABASE_URL is not a valid URL: postgres://USER:PASSWORD@HOST:PORT/DATABASE, with special characters in the password percent-encoded.',
      );
    }
    checkParameters(url.searchParams);
    const socket = socketSettings(url.searchParams);
    const schema = url.searchParams.get('schema');
    const prepare = url.searchParams.get('prepare') ?? 'on';
    const urlOptions = url.searchParams.getAll('options');
    url.searchParams.delete('schema');
    url.searchParams.delete('prepare');
    // Taken out of the URL: left in, pg would let it replace the server's settings (connection-parameters.js
    // lets the connection string override the `options` it is given), dropping the search_path of `schema=`.
    url.searchParams.delete('options');
    if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new DatabaseUrlError(`DATABASE_URL schema "${schema}" must be a plain lower-case identifier.`);
    }
    if (prepare !== 'on' && prepare !== 'off') throw new DatabaseUrlError(`DATABASE_URL prepare "${prepare}" must be "on" (the default) or "off".`);
    // pg would take the last one and drop the others without a word.
    if (urlOptions.length > 1) throw new DatabaseUrlError('DATABASE_URL gives options= more than once; give it once, its settings separated by spaces (%20).');
    const [given] = urlOptions;
    const source = given === undefined ? 'PGOPTIONS' : 'DATABASE_URL options=';
    const options = splitPostgresOptions(given ?? environment.PGOPTIONS ?? '');
    // PostgreSQL refuses an empty argument ("invalid command-line argument for server process: "), and it
    // cannot be written back into the string the server's settings are added to.
    if (options.includes(''))
      throw new DatabaseUrlError(`${source} holds a backslash standing alone (\\), which PostgreSQL refuses; write \\\\ for a backslash.`);
    // The schema is the server's choice, made by schema= alone: a second one in the options would be either
    // silently overridden (the operator believes it holds) or silently win (the server uses the wrong schema's
    // tables). Without schema= a search_path there is the operator's way to choose it, and is kept.
    const searchPath = settingsIn(options).find((setting) => setting.name === 'search_path');
    if (schema !== null && searchPath) {
      throw new DatabaseUrlError(
        `DATABASE_URL chooses the schema twice: schema=${schema}, and search_path=${searchPath.value} in ${source}. ` +
          `Take search_path out of ${source}: the server sets it from schema=.`,
      );
    }
    return { dialect: 'postgres', connectionString: url.toString(), schema, prepare: prepare === 'on', options, ...socket };
  }
  throw new DatabaseUrlError('DATABASE_URL must be "sqlite:PATH" or "postgres://…".');
}

/** The server's own DATABASE_URL parameters (see {@link parseDatabaseUrl}). */
const OWN_PARAMETERS = ['schema', 'prepare', 'options'];

/**
 * The parameters pg (8.23: pg-connection-string's parse, lib/connection-parameters.js, lib/client.js) reads
 * from a connection string and acts on. Checked there one by one: host, port, user and password (also as the
 * URL's parts), ssl, sslmode, sslcert, sslkey, sslrootcert, sslnegotiation and uselibpqcompat (TLS),
 * application_name and fallback_application_name, client_encoding (how pg decodes text), and three timeouts in
 * milliseconds: statement_timeout and idle_in_transaction_session_timeout (sent to PostgreSQL at start-up) and
 * query_timeout (pg's own wait for an answer).
 */
const PG_PARAMETERS = [
  'host',
  'port',
  'user',
  'password',
  'ssl',
  'sslmode',
  'sslcert',
  'sslkey',
  'sslrootcert',
  'sslnegotiation',
  'uselibpqcompat',
  'application_name',
  'fallback_application_name',
  'client_encoding',
  'statement_timeout',
  'idle_in_transaction_session_timeout',
  'query_timeout',
];

/** libpq's names pg ignores in a URL, which the server takes out and gives pg as its options ({@link socketSettings}). */
const SOCKET_PARAMETERS = ['connect_timeout', 'keepalives', 'keepalives_idle'];

/** Milliseconds pg passes through parseInt: `statement_timeout=5s` would be 5 ms. */
const MILLISECOND_PARAMETERS = new Set(['statement_timeout', 'idle_in_transaction_session_timeout', 'query_timeout']);

/** What pg does with each sslmode (pg-connection-string); anything else turned TLS on without a word. */
const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/**
 * Parameters pg reads, but not as an operator would want for the server's connections: refused with advice.
 * lock_timeout goes to PostgreSQL in the start-up packet, after `options`, so it would override the admin
 * CLI's own lock_timeout (see {@link connectionOptions}); replication would make every connection a
 * replication connection, which cannot run the server's queries.
 */
const REFUSED_PARAMETERS: Record<string, string> = {
  lock_timeout: "write it as options=-c%20lock_timeout%3D<ms> instead, so the admin CLI's own lock_timeout still holds over it",
  replication: "replication connections cannot run the server's queries; take it out",
};

/**
 * Refuses a parameter nobody reads — pg copied each one into its settings, where it was ignored: `?shema=x`
 * migrated the default schema — one given twice (pg keeps the last, `schema=` the first), a timeout that is
 * not whole milliseconds, and an sslmode pg does not know. Names only in the messages: a value can be a password.
 */
function checkParameters(parameters: URLSearchParams): void {
  const known = [...OWN_PARAMETERS, ...PG_PARAMETERS, ...SOCKET_PARAMETERS];
  const seen = new Set<string>();
  for (const [name, value] of parameters) {
    if (name in REFUSED_PARAMETERS) throw new DatabaseUrlError(`DATABASE_URL gives ${name}=: ${REFUSED_PARAMETERS[name]}.`);
    if (!known.includes(name)) {
      const near = closestName(name, known);
      throw new DatabaseUrlError(
        `DATABASE_URL has a parameter neither the server nor its PostgreSQL driver reads: ${name}=.${near ? ` Did you mean ${near}=?` : ''} ` +
          `The server reads ${OWN_PARAMETERS.join(', ')}, and the driver ${[...PG_PARAMETERS, ...SOCKET_PARAMETERS].join(', ')}.`,
      );
    }
    if (seen.has(name)) throw new DatabaseUrlError(`DATABASE_URL gives ${name}= more than once; give it once.`);
    seen.add(name);
    if (MILLISECOND_PARAMETERS.has(name) && !/^\d+$/.test(value)) {
      throw new DatabaseUrlError(`DATABASE_URL ${name}= must be a whole number of milliseconds, e.g. ${name}=5000.`);
    }
    if (name === 'sslmode' && !SSL_MODES.includes(value)) {
      const near = closestName(value, SSL_MODES);
      throw new DatabaseUrlError(`DATABASE_URL sslmode= must be one of ${SSL_MODES.join(', ')}.${near ? ` Did you mean sslmode=${near}?` : ''}`);
    }
  }
}

/**
 * connect_timeout (seconds), keepalives (0 or 1) and keepalives_idle (seconds), as libpq reads them, taken out
 * of `parameters` and returned as the target's settings {@link openDatabase} gives pg.
 */
function socketSettings(
  parameters: URLSearchParams,
): Pick<Extract<DatabaseTarget, { dialect: 'postgres' }>, 'connectTimeoutMs' | 'keepAlive' | 'keepAliveInitialDelayMs'> {
  const seconds = (name: string) => {
    const value = parameters.get(name);
    parameters.delete(name);
    if (value === null) return undefined;
    if (!/^\d+$/.test(value)) throw new DatabaseUrlError(`DATABASE_URL ${name}= must be a whole number of seconds, e.g. ${name}=10.`);
    return Number(value) * 1000;
  };
  const keepalives = parameters.get('keepalives');
  parameters.delete('keepalives');
  if (keepalives !== null && keepalives !== '0' && keepalives !== '1') throw new DatabaseUrlError('DATABASE_URL keepalives= must be 1 (on) or 0 (off).');
  const connectTimeoutMs = seconds('connect_timeout');
  const keepAliveInitialDelayMs = seconds('keepalives_idle');
  return {
    // libpq: 0 waits for ever, as leaving it out does.
    ...(connectTimeoutMs ? { connectTimeoutMs } : {}),
    ...(keepalives === null ? {} : { keepAlive: keepalives === '1' }),
    ...(keepAliveInitialDelayMs === undefined ? {} : { keepAliveInitialDelayMs }),
  };
}

/** The name in `names` within a typo or two of `name` (the fewest edits, at most a third of its length), if any. */
function closestName(name: string, names: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of names) {
    const distance = editDistance(name.toLowerCase(), candidate);
    if (distance <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance, with a swap of two neighbouring letters counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = distance;
    }
  }
  return rows[a.length]![b.length]!;
}

/** Whitespace as PostgreSQL's pg_split_opts reads it (C `isspace`). */
const OPTION_SPACE = /[ \t\n\v\f\r]/;

/**
 * A startup `options` string split into arguments as PostgreSQL splits it (pg_split_opts, postinit.c):
 * whitespace separates them, a backslash makes the next character part of the argument (`\ ` a space,
 * `\\` a backslash), and a backslash at the very end is dropped.
 */
export function splitPostgresOptions(options: string): string[] {
  const args: string[] = [];
  let current: string | null = null;
  let escaped = false;
  for (const character of options) {
    if (!escaped && OPTION_SPACE.test(character)) {
      if (current !== null) args.push(current);
      current = null;
    } else if (!escaped && character === '\\') {
      escaped = true;
      current ??= '';
    } else {
      escaped = false;
      current = (current ?? '') + character;
    }
  }
  if (current !== null) args.push(current);
  return args;
}

/**
 * Arguments written back as one `options` string PostgreSQL splits into the same arguments. Written out
 * again rather than pasted: pasted, an operator's string ending in a lone backslash would escape the space
 * before the server's first setting and swallow it into the operator's last value.
 */
export function joinPostgresOptions(args: readonly string[]): string {
  return args.map((arg) => arg.replace(/[\\ \t\n\v\f\r]/g, (character) => `\\${character}`)).join(' ');
}

/** The backend's option letters that take a value (`getopt` string of process_postgres_switches, postgres.c). */
const OPTION_LETTERS_WITH_VALUE = new Set('BCcDdfhkNprStvW-');

/**
 * The run-time settings among startup arguments, read as PostgreSQL's getopt reads them: `-c name=value`,
 * `-cname=value` or `--name=value`, also after flags in one argument (`-Pc …`); names in lower case with `-`
 * as `_`, as PostgreSQL looks them up.
 */
function settingsIn(args: readonly string[]): { name: string; value: string }[] {
  const settings: { name: string; value: string }[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) continue;
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j]!;
      if (!OPTION_LETTERS_WITH_VALUE.has(letter)) continue;
      const value = j + 1 < arg.length ? arg.slice(j + 1) : args[++i];
      const equals = value?.indexOf('=') ?? -1;
      if ((letter === 'c' || letter === '-') && value !== undefined && equals > 0) {
        settings.push({ name: value.slice(0, equals).replace(/-/g, '_').toLowerCase(), value: value.slice(equals + 1) });
      }
      break;
    }
  }
  return settings;
}

/**
 * The `options` each PostgreSQL connection starts with: the operator's own (the URL's `options=`, else
 * `PGOPTIONS`), then the server's settings — its schema's search_path and, for the admin CLI, its
 * lock_timeout. PostgreSQL applies the arguments in order, so for a setting given twice the server's comes
 * last and holds. A search_path in both is refused when the URL is parsed. A lock_timeout in both: the CLI's
 * holds, since its wait is what turns a lock another session keeps into "locked, nothing was changed, try
 * again" (bin/server-database.ts); an operator's lock_timeout is written for the server's connections, which
 * share DATABASE_URL (`lock_timeout=0`, waiting for ever, would make the CLI hang again). The server's own
 * connections set none, so there the operator's holds. Every other setting is the operator's.
 */
export function connectionOptions(target: Extract<DatabaseTarget, { dialect: 'postgres' }>, { lockTimeoutMs }: OpenDatabaseOptions = {}): string {
  const settings = [
    ...(target.schema ? ['-c', `search_path=${target.schema}`] : []),
    ...(lockTimeoutMs === undefined ? [] : ['-c', `lock_timeout=${Math.round(lockTimeoutMs)}`]),
  ];
  return joinPostgresOptions([...target.options, ...settings]);
}

/** Distinct SQL texts kept prepared; the server uses fewer than a hundred (an `in (…)` list adds one per length). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely asks better-sqlite3 to prepare (parse and plan) every query it runs; the same query shape always
 * compiles to the same SQL text, so each prepared statement is kept and reused, least recently used first
 * out. Safe because better-sqlite3 runs a statement to completion synchronously (Kysely never streams here),
 * and SQLite re-prepares a kept statement itself after a schema change.
 */
export function withStatementCache(database: SQLite.Database, capacity = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    prepare(sqlText) {
      let statement = statements.get(sqlText);
      if (statement) {
        statements.delete(sqlText);
      } else {
        statement = database.prepare(sqlText);
        if (statements.size >= capacity) statements.delete(statements.keys().next().value!);
      }
      statements.set(sqlText, statement);
      return statement;
    },
    close() {
      statements.clear();
      database.close();
    },
  };
}

/** The application_name of the server's PostgreSQL connections, unless the operator names them. */
export const APPLICATION_NAME = 'latchkey';

/** Postgres OIDs whose text form we turn into JS numbers: int8 (timestamps in ms, counts). */
const INT8_OID = 20;

/** How long a SQLite statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * WAL mode (kept in the file once set). Two processes opening a fresh file at the same moment (two
 * instances started together, or the server and the admin CLI) both try to switch it; SQLite then
 * refuses one at once with SQLITE_BUSY instead of waiting (its busy handler is not called where waiting
 * could deadlock) — seen here in 1 of 120 such openings (0 of 120 with the retry), and it failed CI once.
 * So the switch is retried, within the busy timeout.
 * Start-up only, so the thread may sleep between tries.
 */
function switchToWal(database: SQLite.Database): void {
  const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      database.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!(error instanceof SQLite.SqliteError && error.code === 'SQLITE_BUSY') || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/** A SQLite location that cannot hold the database; the message names DATABASE_URL, for the start-up error. */
export class DatabaseLocationError extends Error {
  /** `advice`: what to do instead, when the usual "a file in a writable directory" is not it. */
  constructor(databaseUrl: string, reason: string, { advice, ...options }: ErrorOptions & { advice?: string } = {}) {
    super(
      `DATABASE_URL "${databaseUrl}" cannot hold a database: ${reason}. ${advice ?? 'Point it at a file in a writable directory, e.g. sqlite:/var/lib/latchkey/latchkey.db.'}`,
      options,
    );
    this.name = 'DatabaseLocationError';
  }
}

/** `statSync`, or undefined for a path that does not exist; other failures (EACCES, ENOTDIR …) are thrown. */
function statIfExists(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Creates the directories a SQLite file needs, one level at a time from the nearest existing one.
 * Not `mkdirSync(…, { recursive: true })`: where mkdir answers ENOENT although the parent exists (any
 * new directory under /proc), Node takes that for a missing parent, creates the parent (it exists) and
 * tries again, for ever — the server hung at start-up with no word.
 */
function createDirectories(directory: string, databaseUrl: string): void {
  const missing: string[] = [];
  let existing = directory;
  for (;;) {
    let stats: Stats | undefined;
    try {
      stats = statIfExists(existing);
    } catch (error) {
      throw new DatabaseLocationError(databaseUrl, `cannot look at ${existing} (${(error as Error).message})`, { cause: error });
    }
    if (stats !== undefined) {
      if (!stats.isDirectory()) throw new DatabaseLocationError(databaseUrl, `${existing} is not a directory`);
      break;
    }
    missing.unshift(existing);
    existing = path.dirname(existing);
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      // Another process (a second instance starting) may have made it in between.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statIfExists(level)?.isDirectory()) continue;
      throw new DatabaseLocationError(databaseUrl, `cannot create the directory ${level} (${(error as Error).message})`, { cause: error });
    }
  }
}

/**
 * Opens the SQLite file in WAL mode, creating it and its directories. Every failure names DATABASE_URL:
 * SQLite's own "unable to open database file" or "disk I/O error" says neither which setting nor which file.
 */
function openSqlite(file: string, databaseUrl: string): SQLite.Database {
  if (file !== ':memory:') {
    const resolved = path.resolve(file);
    createDirectories(path.dirname(resolved), databaseUrl);
    const stats = statIfExists(resolved);
    if (stats?.isDirectory())
      throw new DatabaseLocationError(databaseUrl, `${resolved} is a directory; name a file in it, e.g. sqlite:${path.join(resolved, 'latchkey.db')}`);
    // A FIFO or a device: SQLite would fail on it only after writing a journal beside it (/dev/null-journal).
    if (stats !== undefined && !stats.isFile()) throw new DatabaseLocationError(databaseUrl, `${resolved} is not a regular file`);
  }
  let database: SQLite.Database | undefined;
  try {
    database = new SQLite(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    switchToWal(database);
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    return database;
  } catch (error) {
    database?.close();
    // Busy past the timeout is another process holding the file, not a bad location: keep SQLite's word.
    if (error instanceof SQLite.SqliteError && error.code === 'SQLITE_BUSY') throw error;
    // A file that is there but holds no database: the place is fine, the file is not (review: "a writable
    // directory" was no help). Never overwritten: it may be someone's data under a mistyped name.
    if (error instanceof SQLite.SqliteError && error.code === 'SQLITE_NOTADB') {
      throw new DatabaseLocationError(
        databaseUrl,
        `${path.resolve(file)} is not a SQLite database (another kind of file, or a damaged one); it was left as it is`,
        {
          cause: error,
          // The directory is fine: advising "a writable directory" sent the operator looking in the wrong place.
          advice: "Point it at the server's database file, or at a file name not in use to start a new database.",
        },
      );
    }
    throw new DatabaseLocationError(databaseUrl, `SQLite cannot open it (${(error as Error).message})`, { cause: error });
  }
}

export interface OpenDatabaseOptions {
  /**
   * PostgreSQL: how long a statement waits for a lock (a row another session holds `FOR UPDATE`, or is changing)
   * before it fails with 55P03 lock_not_available (the session's `lock_timeout`). Unset: it waits as long as it
   * takes, which a server's request should (another request's transaction ends soon). The admin CLI sets it, as
   * SQLite's busy timeout bounds its wait there: an operator's command must not hang behind a stuck session.
   * It holds over a `lock_timeout` in the URL's options (see {@link connectionOptions}). SQLite ignores it (its busy timeout is always {@link SQLITE_BUSY_TIMEOUT_MS}).
   */
  lockTimeoutMs?: number;
}

/**
 * Open a Kysely instance for `sqlite:PATH` or `postgres://…`. SQLite runs in WAL mode with a busy
 * timeout, its transactions begun IMMEDIATE, so the server, the admin CLI and a second instance can share the file. A SQLite location
 * that cannot hold a database throws a {@link DatabaseLocationError} at once.
 */
export function openDatabase(databaseUrl: string, { lockTimeoutMs }: OpenDatabaseOptions = {}): Kysely<Database> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.dialect === 'sqlite') {
    const database = openSqlite(target.path, databaseUrl);
    return new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }) });
  }
  // Settings for each connection, given when it starts (no extra round trip).
  const options = connectionOptions(target, { lockTimeoutMs });
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: 10,
    // Timestamps are bigint columns holding ms since the epoch: well inside Number's exact range.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
    ...(options === '' ? {} : { options }),
    ...(target.connectTimeoutMs === undefined ? {} : { connectionTimeoutMillis: target.connectTimeoutMs }),
    ...(target.keepAlive === undefined ? {} : { keepAlive: target.keepAlive }),
    ...(target.keepAliveInitialDelayMs === undefined ? {} : { keepAliveInitialDelayMillis: target.keepAliveInitialDelayMs }),
    // So pg_stat_activity (and the server's log, with %a) shows whose connections these are. A fallback, as
    // libpq's: the URL's application_name= or PGAPPNAME hold over it. One in the operator's options too: the
    // startup packet's application_name is applied after the options' -c settings and would override it.
    ...(settingsIn(target.options).some((setting) => setting.name === 'application_name') ? {} : { fallback_application_name: APPLICATION_NAME }),
  });
  // A connection lost while idle in the pool: pg-pool has already closed and dropped it; the next query
  // opens a new one. Without a listener the pool's 'error' would be thrown and end the process.
  pool.on('error', () => undefined);
  // A connection lost while a request has it checked out: pg-pool takes its own listener off a client it hands
  // out, so the client's 'error' (a terminated backend, a cut network) was thrown, uncaught, and ended the
  // whole instance. The client's queries fail without it (pg rejects them, and marks the client unqueryable),
  // the request answers 503 (routes/errors.ts), and the pool discards the client when it is released (pg-pool
  // drops an unqueryable one; discardLostConnections the one whose query saw the FATAL error first). So the
  // event itself needs nothing more than a listener that keeps it from being thrown.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const kyselyPool = discardLostConnections(target.prepare ? withPreparedStatements(pool) : pool);
  return new Kysely<Database>({ dialect: new CurrentSchemaPostgresDialect({ pool: kyselyPool }) });
}
