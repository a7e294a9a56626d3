import { describe, expect, it } from 'vitest';
import { DatabaseLocationError } from '../db/open-database.js';
import { DatabaseProblem, problemFrom } from './server-database.js';

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
