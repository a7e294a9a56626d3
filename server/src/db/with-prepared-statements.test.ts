import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabaseUrl, TEST_POSTGRES_URL } from './test-database.js';
import { openDatabase, parseDatabaseUrl } from './open-database.js';
import { withPreparedStatements } from './with-prepared-statements.js';

describe('withPreparedStatements (PostgreSQL)', () => {
  let drop: () => Promise<void>;
  let pool: pg.Pool;
  beforeAll(async () => {
    const database = await createTestDatabaseUrl('postgres');
    drop = database.drop;
    const target = parseDatabaseUrl(database.databaseUrl);
    if (target.dialect !== 'postgres') throw new Error('expected PostgreSQL');
    // One connection, so every query below sees the statements the previous ones prepared.
    pool = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 1, options: `-c search_path=${target.schema}` });
    await pool.query('create table t (id integer primary key, name text)');
  });
  afterAll(async () => {
    await pool?.end();
    await drop?.();
  });

  const prepared = async () => {
    const client = await pool.connect();
    try {
      return (await client.query<{ statement: string }>('select statement from pg_prepared_statements')).rows.map((row) => row.statement);
    } finally {
      client.release();
    }
  };

  it('prepares a parameterised text once per connection and runs it with new values', async () => {
    const wrapped = withPreparedStatements(pool);
    const client = await wrapped.connect();
    try {
      await client.query('insert into t (id, name) values ($1, $2)', [1, 'a']);
      await client.query('insert into t (id, name) values ($1, $2)', [2, 'b']);
      expect((await client.query('select name from t where id = $1', [2])).rows).toEqual([{ name: 'b' }]);
      expect((await client.query('select name from t where id = $1', [1])).rows).toEqual([{ name: 'a' }]);
    } finally {
      client.release();
    }
    const statements = await prepared();
    expect(statements.filter((text) => text === 'insert into t (id, name) values ($1, $2)')).toHaveLength(1);
    expect(statements.filter((text) => text === 'select name from t where id = $1')).toHaveLength(1);
  });

  it('sends texts without parameters unnamed, so several statements in one text still work', async () => {
    const client = await withPreparedStatements(pool).connect();
    try {
      await client.query('begin; update t set name = name; commit', []);
    } finally {
      client.release();
    }
    expect(await prepared()).not.toContain('begin; update t set name = name; commit');
  });

  it('survives another process changing a table under a kept plan (runs the query again under a new name)', async () => {
    const wrapped = withPreparedStatements(pool);
    const first = await wrapped.connect();
    expect((await first.query('select * from t where id = $1', [1])).rows).toEqual([{ id: 1, name: 'a' }]);
    first.release();
    // As another instance's migration would (on the pool's one connection, which keeps the plan above).
    await pool.query("alter table t add column label text not null default 'x'");
    const client = await wrapped.connect();
    expect(client).toBe(first);
    try {
      expect((await client.query('select * from t where id = $1', [1])).rows).toEqual([{ id: 1, name: 'a', label: 'x' }]);
      expect((await client.query('select * from t where id = $1', [2])).rows).toEqual([{ id: 2, name: 'b', label: 'x' }]);
    } finally {
      client.release();
    }
  });

  it('still reports a real error in the statement', async () => {
    const client = await withPreparedStatements(pool).connect();
    try {
      await expect(client.query('select * from missing_table where id = $1', [1])).rejects.toThrow(/missing_table/);
      // The failed parse left no name behind: the next query on the connection works.
      expect((await client.query('select name from t where id = $1', [1])).rows).toEqual([{ name: 'a' }]);
    } finally {
      client.release();
    }
  });
});

describe('openDatabase on PostgreSQL', () => {
  /** The statements a Kysely instance's connection keeps prepared after it ran one parameterised query. */
  const keptAfterQuery = async (query: string) => {
    const database = await createTestDatabaseUrl('postgres');
    const db = openDatabase(`${database.databaseUrl}${query}`);
    try {
      // One transaction: the same connection runs the query and then reads its session's statements.
      return await db.transaction().execute(async (trx) => {
        await sql`select ${1}::int as one`.execute(trx);
        return (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(trx)).rows.map((row) => row.statement);
      });
    } finally {
      await db.destroy();
      await database.drop();
    }
  };

  it('names parameterised statements by default, and not with ?prepare=off', async () => {
    expect(await keptAfterQuery('')).toContain('select $1::int as one');
    expect(await keptAfterQuery('&prepare=off')).not.toContain('select $1::int as one');
  });
});
