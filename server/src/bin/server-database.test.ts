import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { testConfig } from '../config.js';
import { DatabaseLocationError } from '../db/open-database.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { changedAnything, DatabaseBusy, DatabaseProblem, openServerDatabase, problemFrom } from './server-database.js';

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
