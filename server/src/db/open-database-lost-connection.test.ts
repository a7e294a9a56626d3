import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './open-database.js';
import type { Database } from './schema.js';
import { startTcpForwarder } from '../testing/tcp-forwarder.js';
import { createTestDatabaseUrl, TEST_POSTGRES_URL } from './test-database.js';

// Review: a pooled connection lost while checked out (a request's transaction waiting on something else, or
// a query running) emitted 'error' on a pg Client nobody listened to, and the uncaught exception ended the
// whole instance. Reproduced by pg_terminate_backend on the server's own backends and by cutting a TCP
// forwarder between the server and PostgreSQL.
describe.each([
  ['named prepared statements', ''],
  ['prepare=off', '&prepare=off'],
])('openDatabase on PostgreSQL when a checked-out connection is lost (%s)', (_label, query) => {
  let databaseUrl: string;
  let drop: () => Promise<void>;
  let admin: pg.Client;
  let uncaught: unknown[];
  const record = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    ({ databaseUrl, drop } = await createTestDatabaseUrl('postgres'));
    databaseUrl += query;
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await drop?.();
  });
  beforeEach(() => {
    uncaught = [];
    process.on('uncaughtException', record);
  });
  afterEach(() => {
    process.off('uncaughtException', record);
  });

  const pidOf = async (db: Kysely<Database>) => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;
  const terminate = async (pid: number) => {
    await admin.query('select pg_terminate_backend($1)', [pid]);
  };
  /** Lets the socket's end and any error event it brings reach the client. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
  /** The same Kysely, afterwards: every one of the pool's connections still answers, none of them the dead one. */
  const expectHealthy = async (db: Kysely<Database>, deadPid: number) => {
    const pids = await Promise.all(Array.from({ length: 12 }, () => pidOf(db)));
    expect(pids).not.toContain(deadPid);
    expect(uncaught).toEqual([]);
  };

  it('between two statements of a transaction: the next statement rejects, the process lives, the next query works', async () => {
    const db = openDatabase(databaseUrl);
    try {
      let deadPid = 0;
      const transaction = db.transaction().execute(async (trx) => {
        deadPid = await pidOf(trx);
        await terminate(deadPid);
        await settle();
        await sql`select ${1}::int as one`.execute(trx);
      });
      await expect(transaction).rejects.toThrow();
      await settle();
      expect(uncaught).toEqual([]);
      await expectHealthy(db, deadPid);
    } finally {
      await db.destroy();
    }
  });

  it('during a query of a transaction: the query rejects, the process lives, the next query works', async () => {
    const db = openDatabase(databaseUrl);
    try {
      let deadPid = 0;
      const transaction = db.transaction().execute(async (trx) => {
        deadPid = await pidOf(trx);
        const sleeping = sql`select pg_sleep(${10})`.execute(trx);
        // Handled now, awaited below: it fails while the test waits for the termination to be sent.
        sleeping.catch(() => undefined);
        await waitUntilActive(deadPid);
        await terminate(deadPid);
        await sleeping;
      });
      // The query's 57P01, or (Kysely throws the ROLLBACK's error in its place) pg's "Connection terminated unexpectedly".
      await expect(transaction).rejects.toThrow(/terminat/i);
      await settle();
      expect(uncaught).toEqual([]);
      await expectHealthy(db, deadPid);
    } finally {
      await db.destroy();
    }
  });

  it('during a query outside a transaction: the connection is not handed out again', async () => {
    const db = openDatabase(databaseUrl);
    try {
      let deadPid = 0;
      // One connection checked out as a request's queries are; released the moment its query fails, before
      // the socket's end has reached the client, so only the error itself can tell the pool the connection died.
      const lost = db.connection().execute(async (connection) => {
        deadPid = await pidOf(connection);
        const sleeping = sql`select pg_sleep(${10})`.execute(connection);
        // Handled now, awaited below: it fails while the test waits for the termination to be sent.
        sleeping.catch(() => undefined);
        await waitUntilActive(deadPid);
        await terminate(deadPid);
        await sleeping;
      });
      await expect(lost).rejects.toThrow(/terminating connection due to administrator command/);
      // At once, not after settling: a dead connection back in the pool would be handed to this query.
      expect(await pidOf(db)).not.toBe(deadPid);
      await settle();
      await expectHealthy(db, deadPid);
    } finally {
      await db.destroy();
    }
  });

  it('when the network between the server and PostgreSQL is cut mid-transaction', async () => {
    const postgres = new URL(TEST_POSTGRES_URL);
    const forwarder = await startTcpForwarder(postgres.hostname, Number(postgres.port || 5432));
    const url = new URL(databaseUrl);
    url.host = `127.0.0.1:${forwarder.port}`;
    const db = openDatabase(url.toString());
    try {
      const transaction = db.transaction().execute(async (trx) => {
        await pidOf(trx);
        forwarder.cut();
        await settle();
        await sql`select ${1}::int as one`.execute(trx);
      });
      await expect(transaction).rejects.toThrow();
      await settle();
      expect(uncaught).toEqual([]);
      // New connections go through the forwarder, which still accepts them.
      expect(await pidOf(db)).toBeGreaterThan(0);
      expect(uncaught).toEqual([]);
    } finally {
      await db.destroy();
      await forwarder.close();
    }
  });

  async function waitUntilActive(pid: number) {
    for (let tries = 0; tries < 200; tries++) {
      const { rows } = await admin.query<{ state: string }>('select state from pg_stat_activity where pid = $1', [pid]);
      if (rows[0]?.state === 'active') return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`backend ${pid} never became active`);
  }
});
