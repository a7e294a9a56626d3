/**
 * How the admin CLI opens the server's database: only one that exists and that a server of this version
 * has set up. The CLI used to open whatever DATABASE_URL named and migrate it — so a mistyped path, or a
 * run without the server's environment (another system user's default data directory), made a new empty
 * database: `events` and `reset-2fa` then answered "No account named …" for an account that exists, and
 * `create-user` made an account, with a password shown to the operator, that the server never saw (QA h16).
 * It never creates a database or a schema, and never migrates one: a migration run by the CLI of a newer
 * checkout would change the tables under a running older server.
 */
import { existsSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { type Kysely, type KyselyPlugin, sql } from 'kysely';
import { migrations } from '../db/migrations/index.js';
import { DatabaseLocationError, openDatabase, parseDatabaseUrl, type DatabaseTarget, SQLITE_BUSY_TIMEOUT_MS } from '../db/open-database.js';
import { isPostgres } from '../db/dialect.js';
import type { Database } from '../db/schema.js';

/** The environment names a database the CLI cannot use; nothing was read from or written to it. */
export class DatabaseProblem extends Error {}

/** The database is locked by another process (SQLITE_BUSY past the busy timeout, PostgreSQL's lock_timeout): nothing was changed; try again. */
export class DatabaseBusy extends DatabaseProblem {}

/**
 * How long the CLI waits for a lock another process holds before it gives up: SQLite's busy timeout
 * (open-database.ts), and the same as PostgreSQL's `lock_timeout` for the CLI's connections. Without it a
 * command on PostgreSQL waited for ever behind a session that held a row (`SELECT … FOR UPDATE` in an open
 * `psql`, a stuck process), saying nothing.
 */
export const LOCK_TIMEOUT_MS = SQLITE_BUSY_TIMEOUT_MS;

/**
 * Another connection held a lock too long: SQLITE_BUSY and its extended codes (SQLITE_BUSY_SNAPSHOT, …), or
 * PostgreSQL's 55P03 lock_not_available (the CLI's `lock_timeout` ran out).
 */
export function isDatabaseBusy(error: unknown): boolean {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code === '55P03');
}

/** What the operator reads when the database stayed locked (without "nothing was changed": the caller knows whether it is true). */
export function busyMessage(where: string): string {
  return `${capitalised(where)} is locked by another process writing to it (the server, or another admin command), and it stayed locked while this command waited.`;
}

/** Rows changed through each PostgreSQL database {@link openServerDatabase} opened (see {@link changedAnything}). */
const rowsChanged = new WeakMap<Kysely<Database>, { count: number }>();

/** Counts the rows each statement that succeeded inserted, updated or deleted (Kysely's `numAffectedRows`). */
function countingChanges(counter: { count: number }): KyselyPlugin {
  return {
    transformQuery: ({ node }) => node,
    transformResult: async ({ result }) => {
      counter.count += Number(result.numAffectedRows ?? 0n);
      return result;
    },
  };
}

/**
 * After the database stayed locked during a command: had this process changed anything before? A "no" is
 * certain, a "yes" may be a change that did not last (rolled back with the transaction the lock stopped).
 * SQLite: `total_changes()` counts every row this connection inserted, updated or deleted; the busy statement
 * itself changed nothing (SQLite refuses a connection the lock before its first change in a transaction,
 * never after it). PostgreSQL: the rows counted through every connection of the pool {@link openServerDatabase}
 * opened (the statement that timed out changed nothing; a database opened otherwise counts as changed).
 */
export async function changedAnything(db: Kysely<Database>): Promise<boolean> {
  if (isPostgres(db)) return (rowsChanged.get(db)?.count ?? 1) > 0;
  const { rows } = await sql<{ changes: number }>`select total_changes() as changes`.execute(db);
  return Number(rows[0]?.changes ?? 0) > 0;
}

/** A `DatabaseTarget` in words, without the password a PostgreSQL URL may carry. */
export function describeDatabase(target: DatabaseTarget): string {
  if (target.dialect === 'sqlite') return `the SQLite file ${target.path}`;
  const url = new URL(target.connectionString);
  const where = `${url.hostname}${url.port ? `:${url.port}` : ''}`;
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(default)';
  return `PostgreSQL database "${database}" on ${where}${target.schema ? `, schema "${target.schema}"` : ''}`;
}

const CHECK_URL = 'Check DATABASE_URL: it must be the one the server runs with.';
const MIGRATED_BY_SERVER = 'The server creates and updates its database when it starts; the admin CLI only works on one it has set up.';

/**
 * Open the server's database, or throw a {@link DatabaseProblem} saying why not. SQLite is first read
 * through a read-only connection, so a file that is not a Latchkey database is left exactly as it was
 * (opening it for writing would switch it to WAL mode).
 */
export async function openServerDatabase(databaseUrl: string): Promise<Kysely<Database>> {
  let target: DatabaseTarget;
  try {
    target = parseDatabaseUrl(databaseUrl);
  } catch (error) {
    throw new DatabaseProblem((error as Error).message);
  }
  const where = describeDatabase(target);
  if (target.dialect === 'sqlite') {
    if (target.path === ':memory:') throw new DatabaseProblem('DATABASE_URL sqlite::memory: is a new, empty database in each process, never the server’s.');
    if (!existsSync(target.path)) {
      throw new DatabaseProblem(`There is no database at ${target.path}, and the admin CLI does not create one. ${CHECK_URL} ${MIGRATED_BY_SERVER}`);
    }
    let applied: string[];
    try {
      const reader = new SQLite(target.path, { readonly: true, fileMustExist: true, timeout: SQLITE_BUSY_TIMEOUT_MS });
      try {
        applied = reader.prepare('select name from kysely_migration').pluck().all() as string[];
      } finally {
        reader.close();
      }
    } catch (error) {
      throw problemFrom(error, where) ?? error;
    }
    checkMigrations(applied, where);
    try {
      // Its transactions begin IMMEDIATE (db/immediate-sqlite-dialect.ts): they wait for another writer's lock.
      return openDatabase(databaseUrl);
    } catch (error) {
      throw problemFrom(error, where) ?? error;
    }
  }
  // A row lock another session holds stops a statement after LOCK_TIMEOUT_MS (55P03), as SQLite's busy timeout does.
  const counter = { count: 0 };
  const db = openDatabase(databaseUrl, { lockTimeoutMs: LOCK_TIMEOUT_MS }).withPlugin(countingChanges(counter));
  rowsChanged.set(db, counter);
  try {
    // A search_path naming a schema that does not exist leaves no current schema (the migration used to
    // fail with "no schema has been selected to create in").
    const schema = (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)).rows[0]?.schema ?? null;
    if (schema === null) throw new DatabaseProblem(`${capitalised(where)}: that schema does not exist. ${CHECK_URL}`);
    const applied = (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map((row) => row.name);
    checkMigrations(applied, where);
    return db;
  } catch (error) {
    await db.destroy();
    throw problemFrom(error, where) ?? error;
  }
}

/** Refuses a database a server of this version has not brought up to date, or a newer one's. */
function checkMigrations(applied: readonly string[], where: string): void {
  const known = Object.keys(migrations);
  const unknown = applied.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new DatabaseProblem(
      `${capitalised(where)} was updated by a newer Latchkey (migration ${unknown.join(', ')}): use the admin CLI of the version the server runs.`,
    );
  }
  const pending = known.filter((name) => !applied.includes(name));
  if (pending.length === known.length) throw new DatabaseProblem(notLatchkey(where));
  if (pending.length > 0) {
    throw new DatabaseProblem(
      `${capitalised(where)} is older than this admin CLI (migration ${pending.join(', ')} not applied yet). ` +
        'Restart the server with this version first: it updates the database when it starts.',
    );
  }
}

function notLatchkey(where: string): string {
  return `${capitalised(where)} has no Latchkey tables. ${CHECK_URL} ${MIGRATED_BY_SERVER}`;
}

/** PostgreSQL error codes (SQLSTATE) and Node network errors that mean "this is not a database we can use". */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM']);
const POSTGRES_CODES: Record<string, string> = {
  '28P01': 'the login was refused (wrong user or password)',
  '28000': 'the login was refused (this user may not connect)',
  '3D000': 'that database does not exist',
  '57P03': 'the server is starting up or shutting down',
  '53300': 'the server has no connection to spare',
};

/**
 * A {@link DatabaseProblem} for an error that says the database cannot be used (unreachable, login
 * refused, missing, not a Latchkey database), or null for any other error. Also used for errors during
 * a command: PostgreSQL going away mid-run is a problem of the environment, not of the command.
 */
export function problemFrom(error: unknown, where: string): DatabaseProblem | null {
  if (error instanceof DatabaseProblem) return error;
  // At the open, nothing was written yet. (During a command runAdmin tells busy apart first: it asks whether anything was.)
  if (isDatabaseBusy(error)) return new DatabaseBusy(busyMessage(where));
  // Read-only, the file could be read; for writing it cannot be opened (e.g. a directory the operator may not
  // write, so WAL cannot start). Its message names DATABASE_URL and what to do: it was passed through as an
  // unexpected failure (exit 3), though nothing was done.
  if (error instanceof DatabaseLocationError) return new DatabaseProblem(error.message);
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (code === '42P01' || (code === 'SQLITE_ERROR' && /no such table: kysely_migration/.test(error.message))) return new DatabaseProblem(notLatchkey(where));
  if (code === 'SQLITE_NOTADB') return new DatabaseProblem(`${capitalised(where)} is not a SQLite database. ${CHECK_URL}`);
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code === 'SQLITE_READONLY') {
    return new DatabaseProblem(`Could not open ${where}: ${error.message}. Run the CLI as a system user that may read and write it (the server's).`);
  }
  if (typeof code === 'string' && POSTGRES_CODES[code])
    return new DatabaseProblem(`Could not use ${where}: ${POSTGRES_CODES[code]} (${error.message}). ${CHECK_URL}`);
  if ((typeof code === 'string' && CONNECTION_CODES.has(code)) || /Connection terminated|timeout expired/i.test(error.message)) {
    return new DatabaseProblem(`Could not reach ${where}: ${error.message}. Is the database running, and is DATABASE_URL the server's?`);
  }
  return null;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
