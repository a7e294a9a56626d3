import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteLockHeldByAnotherProcess } from '../testing/sqlite-lock-holder.js';
import { openDatabase } from './open-database.js';

interface Scratch {
  notes: { id: number; text: string };
}

describe('SQLite transactions beside another process that writes', () => {
  let directory: string;
  let file: string;
  let db: Kysely<Scratch>;

  beforeEach(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'latchkey-immediate-'));
    file = path.join(directory, 'latchkey.db');
    db = openDatabase(`sqlite:${file}`) as unknown as Kysely<Scratch>;
    await sql`create table notes (id integer primary key, text text not null)`.execute(db);
    await db.insertInto('notes').values({ id: 1, text: 'first' }).execute();
  });

  afterEach(async () => {
    await db.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  it('a transaction that reads before it writes waits for the other writer, as a single write does', { timeout: 30_000 }, async () => {
    // Another instance or the admin CLI mid-write. Begun DEFERRED (Kysely's default), this transaction's first
    // write was refused at once with SQLITE_BUSY — the request that ran it answered 500 — whatever the busy timeout.
    const holder = await sqliteLockHeldByAnotherProcess(file, 800);
    const started = Date.now();
    try {
      await db.transaction().execute(async (trx) => {
        const { count } = await trx
          .selectFrom('notes')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('notes')
          .values({ id: Number(count) + 1, text: 'second' })
          .execute();
      });
    } finally {
      holder.kill();
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(await db.selectFrom('notes').select(['id', 'text']).orderBy('id').execute()).toEqual([
      { id: 1, text: 'first' },
      { id: 2, text: 'second' },
    ]);
  });
});
