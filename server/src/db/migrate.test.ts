import { describe, expect, it } from 'vitest';
import { migrateToLatest } from './migrate.js';
import { openDatabase } from './open-database.js';

const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';

describe('migrateToLatest on PostgreSQL', () => {
  // QA: a `?schema=` that does not exist failed with PostgreSQL's "no schema has been selected to create
  // in", behind "Database migration  failed" — naming neither DATABASE_URL nor what to do.
  it('names the setting and the fix when the schema DATABASE_URL names does not exist', async () => {
    const db = openDatabase(`${POSTGRES}?schema=lk_no_such_schema_${process.pid}`);
    try {
      await expect(migrateToLatest(db)).rejects.toThrow(
        /^the PostgreSQL schema DATABASE_URL names \(\?schema=\) does not exist\. The server creates its tables, not the schema: run CREATE SCHEMA first/,
      );
    } finally {
      await db.destroy();
    }
  });
});
