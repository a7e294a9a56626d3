import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** PostgreSQL used by tests; overridable with LATCHKEY_TEST_DATABASE_URL. */
export const TEST_POSTGRES_URL = process.env.LATCHKEY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A throw-away database for one test run: a fresh SQLite file under the OS temp dir, or a fresh
 * PostgreSQL schema `lk_test_<random>` addressed by `postgres://…?schema=NAME`. `drop()` removes it.
 */
export async function createTestDatabaseUrl(dialect: 'sqlite' | 'postgres'): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const suffix = randomBytes(6).toString('hex');
  if (dialect === 'sqlite') {
    const directory = path.join(os.tmpdir(), `latchkey-test-${suffix}`);
    return {
      databaseUrl: `sqlite:${path.join(directory, 'latchkey.db')}`,
      drop: () => rm(directory, { recursive: true, force: true }),
    };
  }
  const schema = `lk_test_${suffix}`;
  await withClient((client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return {
    databaseUrl: url.toString(),
    drop: () => withClient((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => undefined),
  };
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
