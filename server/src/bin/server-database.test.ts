import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { testConfig } from '../config.js';
import { DatabaseLocationError, openDatabase } from '../db/open-database.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { changedAnything, DatabaseBusy, DatabaseProblem, isDatabaseBusy, openServerDatabase, problemFrom } from './server-database.js';

// The CLI's writable open can be refused where its read-only look succeeded (a directory the operator may not
// write, so WAL cannot start). openDatabase then throws a DatabaseLocationError naming DATABASE_URL; it was
// passed through as an unexpected failure (exit 3, "admin: …"), though nothing had been done. It is a database
// problem like the others: "Database error: … Nothing was changed.", exit 2 (adminMain's handling of
// DatabaseProblem, tested in admin.test.ts). Tested here without a refused directory: root, who runs the
// tests, is refused nothing, and the unit project shares modules between files, so no module mock either.
describe('problemFrom', () => {
  it('turns a DatabaseLocationError into a DatabaseProblem with its message', () => {
    const error = new DatabaseLocationError('sqlite:/srv/latchkey/latchkey.db', 'SQLite cannot open it (attempt to write a readonly database)');
    const problem = problemFrom(error, 'the SQLite database at /srv/latchkey/latchkey.db');
    expect(problem).toBeInstanceOf(DatabaseProblem);
    expect(problem?.message).toBe(error.message);
    expect(problem?.message).toMatch(/^DATABASE_URL "sqlite:\/srv\/latchkey\/latchkey\.db" cannot hold a database: SQLite cannot open it/);
  });

  it('leaves an error it does not know to the caller (an unexpected failure stays one)', () => {
    expect(problemFrom(new Error('something else'), 'somewhere')).toBeNull();
  });
});

// SQLITE_BUSY (another process held the write lock past the busy timeout) used to pass through as an unexpected
// failure, "admin: database is locked", exit 3. At the open nothing was written yet: a DatabaseBusy, exit 2, "try again".
// During a command runAdmin asks changedAnything first (admin.test.ts holds a real lock against a real command).
describe('a database locked by another process', () => {
  it('SQLITE_BUSY and its extended codes at the open are a DatabaseBusy saying so', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_RECOVERY']) {
      const problem = problemFrom(new SQLite.SqliteError('database is locked', code), 'the SQLite file /srv/latchkey/latchkey.db');
      expect(problem, code).toBeInstanceOf(DatabaseBusy);
      expect(problem?.message, code).toBe(
        'The SQLite file /srv/latchkey/latchkey.db is locked by another process writing to it (the server, or another admin command), ' +
          'and it stayed locked while this command waited.',
      );
    }
    expect(problemFrom(new SQLite.SqliteError('database disk image is malformed', 'SQLITE_CORRUPT'), 'x')).toBeNull();
  });

  it('changedAnything: no until the CLI’s connection changes a row, yes after (whether it committed or not)', async () => {
    const database = await createTestDatabaseUrl('sqlite');
    try {
      await (await createApp(testConfig({ databaseUrl: database.databaseUrl }))).close();
      const db = await openServerDatabase(database.databaseUrl);
      try {
        await db.selectFrom('users').select('id').execute();
        expect(await changedAnything(db)).toBe(false);
        // A change rolled back counts too: "no" must be certain, "yes" may be cautious.
        await db
          .transaction()
          .execute(async (trx) => {
            await sql`delete from kysely_migration where name = '001-initial'`.execute(trx);
            throw new Error('roll back');
          })
          .catch(() => undefined);
        expect(await changedAnything(db)).toBe(true);
      } finally {
        await db.destroy();
      }
    } finally {
      await database.drop();
    }
  });
});

// PostgreSQL: the CLI's connections give up on a lock after 5 s (lock_timeout; they used to wait for ever), the
// server's wait as long as it takes. admin.test.ts holds a real row lock against real commands.
describe('a PostgreSQL row locked by another session', () => {
  it('only the CLI’s connections have a lock timeout; its 55P03 is "busy"; changedAnything counts the rows it changed', async () => {
    const database = await createTestDatabaseUrl('postgres');
    try {
      await (await createApp(testConfig({ databaseUrl: database.databaseUrl }))).close();
      const server = openDatabase(database.databaseUrl);
      const cli = await openServerDatabase(database.databaseUrl);
      try {
        const lockTimeout = async (db: typeof cli) => (await sql<{ lock_timeout: string }>`show lock_timeout`.execute(db)).rows[0]?.lock_timeout;
        expect(await lockTimeout(server)).toBe('0');
        expect(await lockTimeout(cli)).toBe('5s');
        // The schema is still the URL's (both settings go in the connection's options).
        expect((await sql<{ schema: string }>`select current_schema() as schema`.execute(cli)).rows[0]?.schema).toBe(
          new URL(database.databaseUrl).searchParams.get('schema'),
        );
        // 55P03, as a timed-out wait raises it (NOWAIT: at once), on a row the server's connection holds.
        const row = (db: typeof cli) => db.selectFrom('key_check').select('name').where('name', '=', 'secret-key').forUpdate();
        const refused = await server.transaction().execute(async (trx) => {
          await row(trx).execute();
          return row(cli)
            .noWait()
            .execute()
            .then(
              () => null,
              (caught: unknown) => caught,
            );
        });
        expect((refused as { code?: string } | null)?.code).toBe('55P03');
        expect(isDatabaseBusy(refused)).toBe(true);
        expect(await changedAnything(cli)).toBe(false);
        // A change rolled back counts too: "no" must be certain, "yes" may be cautious.
        await cli
          .transaction()
          .execute(async (trx) => {
            await sql`delete from kysely_migration where name = '001-initial'`.execute(trx);
            throw new Error('roll back');
          })
          .catch(() => undefined);
        expect(await changedAnything(cli)).toBe(true);
      } finally {
        await cli.destroy();
        await server.destroy();
      }
    } finally {
      await database.drop();
    }
  }, 30_000);
});
