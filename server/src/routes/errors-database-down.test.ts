import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { testConfig } from '../config.js';
import { openDatabase } from '../db/open-database.js';
import type { Database } from '../db/schema.js';
import { createTestDatabaseUrl, TEST_POSTGRES_URL } from '../db/test-database.js';
import { type RunningServer, startServer } from '../main.js';
import { sqliteLockHeldByAnotherProcess } from '../testing/sqlite-lock-holder.js';
import { startTcpForwarder, type TcpForwarder } from '../testing/tcp-forwarder.js';
import { errorHandler } from './errors.js';

// Review: with the database down, every page answered 500 "Something went wrong on our side" and logged a
// stack trace as a fault, while /healthz answered 503. A database that is briefly away is answered 503 with
// Retry-After, one warning line logged, no secret in it.
const MESSAGE = 'The service is briefly unavailable. Please try again in a few seconds.';

let warnings: MockInstance<typeof console.warn>;
let errors: MockInstance<typeof console.error>;
beforeEach(() => {
  warnings = vi.spyOn(console, 'warn').mockImplementation(() => {});
  errors = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
  warnings.mockRestore();
  errors.mockRestore();
});

/** What one request was answered, as a page and as JSON. */
async function expect503(url: string, init: RequestInit = {}) {
  const page = await fetch(url, { ...init, headers: { ...init.headers, accept: 'text/html' } });
  expect(page.status).toBe(503);
  expect(page.headers.get('retry-after')).toBe('5');
  expect(page.headers.get('cache-control')).toBe('no-store');
  expect(await page.text()).toContain(MESSAGE);
  const json = await fetch(url, { ...init, headers: { ...init.headers, accept: 'application/json' } });
  expect(json.status).toBe(503);
  expect(json.headers.get('retry-after')).toBe('5');
  expect(await json.json()).toEqual({ fail: { errors: [MESSAGE] } });
}

const logged = () => warnings.mock.calls.map((call) => call.map(String).join(' ')).join('\n');

describe('the whole server when PostgreSQL stops answering', () => {
  let forwarder: TcpForwarder;
  let server: RunningServer;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabaseUrl('postgres');
    drop = database.drop;
    const postgres = new URL(TEST_POSTGRES_URL);
    forwarder = await startTcpForwarder(postgres.hostname, Number(postgres.port || 5432));
    const url = new URL(database.databaseUrl);
    url.host = `127.0.0.1:${forwarder.port}`;
    server = await startServer(testConfig({ databaseUrl: url.toString() }));
  });
  afterAll(async () => {
    await server?.close();
    await forwarder?.close();
    await drop?.();
  });

  it('answers 503 with Retry-After and logs one warning per request, without the session token', async () => {
    const token = randomBytes(32).toString('base64url');
    const withSession = { headers: { cookie: `latchkey_session=${token}` } };
    // Up: the session lookup runs (an unknown token: the page as for anyone).
    expect((await fetch(`${server.url}/`, withSession)).status).toBe(200);
    await forwarder.close();
    await expect503(`${server.url}/`, withSession);
    expect(warnings).toHaveBeenCalledTimes(2);
    expect(logged()).toMatch(/^\[latchkey\] GET \(no route\) could not use the database \(ECONNREFUSED\); answered 503$/m);
    expect(logged()).not.toContain(token);
    expect(errors).not.toHaveBeenCalled();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
  });
});

describe('a request whose PostgreSQL connection is lost', () => {
  let databaseUrl: string;
  let drop: () => Promise<void>;
  let db: Kysely<Database>;
  let admin: pg.Client;
  let base = '';
  let close: () => void = () => {};

  const pidOf = async (on: Kysely<Database>) => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(on)).rows[0]!.pid;

  beforeAll(async () => {
    ({ databaseUrl, drop } = await createTestDatabaseUrl('postgres'));
    db = openDatabase(databaseUrl);
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    const app = express();
    // As a restart or failover does to a request's transaction: its backend ends between two statements.
    app.post('/account/verify-email/:token', async () => {
      await db.transaction().execute(async (trx) => {
        await admin.query('select pg_terminate_backend($1)', [await pidOf(trx)]);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await sql`select 1`.execute(trx);
      });
    });
    // …or while a statement runs: PostgreSQL's own 57P01 reaches the query.
    app.post('/running', async () => {
      await db.connection().execute(async (connection) => {
        const pid = await pidOf(connection);
        const running = sql`select pg_sleep(10)`.execute(connection);
        running.catch(() => undefined);
        for (let tries = 0; tries < 200; tries++) {
          const { rows } = await admin.query<{ state: string }>('select state from pg_stat_activity where pid = $1', [pid]);
          if (rows[0]?.state === 'active') break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await admin.query('select pg_terminate_backend($1)', [pid]);
        await running;
      });
    });
    app.use(errorHandler);
    const listening = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    close = () => listening.close();
  });
  afterAll(async () => {
    close();
    await db?.destroy();
    await admin?.end();
    await drop?.();
  });

  it('between two statements of a transaction: 503, logged with the route pattern, not the token in the path', async () => {
    await expect503(`${base}/account/verify-email/secret-token-value`, { method: 'POST' });
    expect(logged()).toMatch(/^\[latchkey\] POST \/account\/verify-email\/:token could not use the database \(connection (lost|terminated)\); answered 503$/m);
    expect(logged()).not.toContain('secret');
    expect(errors).not.toHaveBeenCalled();
  });

  it("during a statement: 503, logged with PostgreSQL's code", async () => {
    await expect503(`${base}/running`, { method: 'POST' });
    expect(logged()).toMatch(/^\[latchkey\] POST \/running could not use the database \(PostgreSQL 57P01\); answered 503$/m);
    expect(errors).not.toHaveBeenCalled();
  });
});

describe("SQLite's write lock held by another process past the busy timeout", () => {
  let scratch: string;
  let db: Kysely<Database>;
  let base = '';
  let close: () => void = () => {};

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'latchkey-database-down-'));
    db = openDatabase(`sqlite:${path.join(scratch, 'latchkey.db')}`);
    await sql`create table t (id integer primary key)`.execute(db);
    const app = express();
    app.post('/write', async () => {
      await db.transaction().execute((trx) => sql`insert into t default values`.execute(trx));
    });
    app.use(errorHandler);
    const listening = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    close = () => listening.close();
  });
  afterAll(async () => {
    close();
    await db?.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After (after the 5 s busy timeout)', async () => {
    const holder = await sqliteLockHeldByAnotherProcess(path.join(scratch, 'latchkey.db'), 6_000);
    try {
      const page = await fetch(`${base}/write`, { method: 'POST', headers: { accept: 'application/json' } });
      expect(page.status).toBe(503);
      expect(page.headers.get('retry-after')).toBe('5');
      expect(await page.json()).toEqual({ fail: { errors: [MESSAGE] } });
      expect(logged()).toMatch(/^\[latchkey\] POST \/write could not use the database \(SQLITE_BUSY\); answered 503$/m);
      expect(errors).not.toHaveBeenCalled();
    } finally {
      holder.kill();
    }
  }, 15_000);
});

describe('which database failures are "briefly unavailable" and which stay 500s', () => {
  let base = '';
  let close: () => void = () => {};
  let next: unknown;

  beforeAll(async () => {
    const app = express();
    app.post('/fail', () => {
      throw next;
    });
    app.use(errorHandler);
    const listening = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    close = () => listening.close();
  });
  afterAll(() => close());

  const statusFor = async (error: unknown) => {
    next = error;
    return (await fetch(`${base}/fail`, { method: 'POST' })).status;
  };
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

  it('503: PostgreSQL starting up, shutting down, out of connection slots, a connection exception', async () => {
    for (const code of ['57P01', '57P02', '57P03', '57P05', '53300', '08006', '08001', '08P01']) {
      const error = new pg.DatabaseError('the database system is starting up', 1, 'error');
      error.code = code;
      expect(await statusFor(error), code).toBe(503);
    }
    expect(await statusFor(new Error('Connection terminated unexpectedly'))).toBe(503);
    expect(await statusFor(new Error('Client has encountered a connection error and is not queryable'))).toBe(503);
    expect(await statusFor(withCode('SQLITE_BUSY_SNAPSHOT'))).toBe(503);
  });

  it('500: failures an operator must see to (a dropped database, a wrong password, a full disk), and ordinary faults', async () => {
    expect(await statusFor(new pg.DatabaseError('x', 1, 'error')), 'a DatabaseError without a code').toBe(500);
    for (const code of ['57P04', '3D000', '28P01', '53100', '42P01', '57014', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_CORRUPT']) {
      expect(await statusFor(withCode(code)), code).toBe(500);
    }
  });

  it("500, not 503: a socket error the database's pool did not pass on (a browser's connection, not the database's)", async () => {
    expect(await statusFor(withCode('ECONNRESET', 'read ECONNRESET'))).toBe(500);
    expect(await statusFor(withCode('ECONNREFUSED', 'connect ECONNREFUSED'))).toBe(500);
  });
});
