import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { joinPostgresOptions, openDatabase, parseDatabaseUrl, splitPostgresOptions, withStatementCache } from './open-database.js';
import type { Database } from './schema.js';
import { createTestDatabaseUrl } from './test-database.js';

describe('withStatementCache', () => {
  const open = (capacity?: number) => {
    const raw = new SQLite(':memory:');
    raw.exec('create table t (id integer primary key, name text)');
    return { raw, cached: withStatementCache(raw, capacity) };
  };

  it('prepares a SQL text once and runs the kept statement with new parameters', () => {
    const { raw, cached } = open();
    const insert = cached.prepare('insert into t (name) values (?)');
    expect(cached.prepare('insert into t (name) values (?)')).toBe(insert);
    insert.run(['a']);
    cached.prepare('insert into t (name) values (?)').run(['b']);
    const select = cached.prepare('select name from t where id = ?');
    expect(select.all([2])).toEqual([{ name: 'b' }]);
    expect(cached.prepare('select name from t where id = ?').all([1])).toEqual([{ name: 'a' }]);
    raw.close();
  });

  it('drops the least recently used statement when full', () => {
    const { raw, cached } = open(2);
    const first = cached.prepare('select 1');
    const second = cached.prepare('select 2');
    expect(cached.prepare('select 1')).toBe(first); // "select 2" is now the least recently used
    cached.prepare('select 3');
    expect(cached.prepare('select 1')).toBe(first);
    expect(cached.prepare('select 2')).not.toBe(second);
    raw.close();
  });

  it('keeps working after the schema changes under a kept statement', () => {
    const { raw, cached } = open();
    cached.prepare('insert into t (name) values (?)').run(['a']);
    const select = cached.prepare('select * from t');
    expect(select.all([])).toEqual([{ id: 1, name: 'a' }]);
    raw.exec("alter table t add column label text not null default 'x'");
    expect(cached.prepare('select * from t').all([])).toEqual([{ id: 1, name: 'a', label: 'x' }]);
    raw.close();
  });
});

describe('parseDatabaseUrl', () => {
  it('reads sqlite paths and postgres schemas, and refuses anything else with a clear message', () => {
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', path: ':memory:' });
    expect(parseDatabaseUrl('postgres://u@h:5432/db?schema=t_1', {})).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://u@h:5432/db',
      schema: 't_1',
      prepare: true,
      options: [],
    });
    expect(parseDatabaseUrl('postgres://u@h:5432/db?prepare=off', {})).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://u@h:5432/db',
      schema: null,
      prepare: false,
      options: [],
    });
    expect(() => parseDatabaseUrl('postgres://h/db?prepare=maybe')).toThrow(/must be "on" \(the default\) or "off"/);
    expect(() => parseDatabaseUrl('sqlite:')).toThrow(/needs a file path/);
    expect(() => parseDatabaseUrl('postgres://h/db?schema=Bad-Name')).toThrow(/plain lower-case identifier/);
    expect(() => parseDatabaseUrl('mysql://h/db')).toThrow(/must be "sqlite:PATH"/);
  });

  it("takes options= out of the connection string (pg would let it replace the server's settings), else reads PGOPTIONS", () => {
    expect(parseDatabaseUrl('postgres://u@h/db?schema=s&options=-c%20statement_timeout%3D5000&sslmode=require', {})).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://u@h/db?sslmode=require',
      schema: 's',
      prepare: true,
      options: ['-c', 'statement_timeout=5000'],
    });
    // libpq's order: the URL's options, else the environment's.
    expect(parseDatabaseUrl('postgres://h/db?options=-c%20work_mem%3D8MB', { PGOPTIONS: '-c statement_timeout=1' })).toMatchObject({
      options: ['-c', 'work_mem=8MB'],
    });
    expect(parseDatabaseUrl('postgres://h/db', { PGOPTIONS: '-c statement_timeout=1' })).toMatchObject({ options: ['-c', 'statement_timeout=1'] });
    // pg takes the last of two and drops the first without a word.
    expect(() => parseDatabaseUrl('postgres://h/db?options=-c%20a.b%3D1&options=-c%20a.c%3D2', {})).toThrow(/options= more than once/);
  });

  it("refuses a search_path in the options beside schema= (the schema is the server's choice), in any spelling PostgreSQL reads", () => {
    for (const options of ['-c search_path=public', '-csearch_path=public', '--search-path=public', '-Pc SEARCH_PATH=public', '-c\tsearch_path=public']) {
      const url = `postgres://h/db?schema=lk&options=${encodeURIComponent(options)}`;
      expect(() => parseDatabaseUrl(url, {}), options).toThrow(
        /^DATABASE_URL chooses the schema twice: schema=lk, and search_path=public in DATABASE_URL options=\. Take search_path out of DATABASE_URL options=: the server sets it from schema=\.$/,
      );
    }
    expect(() => parseDatabaseUrl('postgres://h/db?schema=lk', { PGOPTIONS: '-c search_path=other' })).toThrow(
      /^DATABASE_URL chooses the schema twice: schema=lk, and search_path=other in PGOPTIONS\. Take search_path out of PGOPTIONS: the server sets it from schema=\.$/,
    );
    // Without schema= the operator's search_path is how they choose the schema: kept.
    expect(parseDatabaseUrl('postgres://h/db?options=-c%20search_path%3Dmine', {})).toMatchObject({ schema: null, options: ['-c', 'search_path=mine'] });
    // A value that only mentions it is no setting of it.
    expect(parseDatabaseUrl('postgres://h/db?schema=lk&options=-c%20application_name%3Dsearch_path', {})).toMatchObject({ schema: 'lk' });
  });

  // Review: pg copied every parameter of the URL into its settings, where an unknown one was ignored:
  // `?shema=x` (a typo) migrated the default schema.
  it('refuses a parameter neither the server nor pg reads, naming it and suggesting the name it is close to', () => {
    expect(() => parseDatabaseUrl('postgres://h/db?shema=x', {})).toThrow(
      /^DATABASE_URL has a parameter neither the server nor its PostgreSQL driver reads: shema=\. Did you mean schema=\? The server reads schema, prepare, options, and the driver host, port, /,
    );
    expect(() => parseDatabaseUrl('postgres://h/db?Schema=x', {})).toThrow(/: Schema=\. Did you mean schema=\?/);
    expect(() => parseDatabaseUrl('postgres://h/db?applicaton_name=x', {})).toThrow(/Did you mean application_name=\?/);
    expect(() => parseDatabaseUrl('postgres://h/db?sslmdoe=require', {})).toThrow(/Did you mean sslmode=\?/);
    expect(() => parseDatabaseUrl('postgres://h/db?statment_timeout=5', {})).toThrow(/Did you mean statement_timeout=\?/);
    // Far from every name: no guess. search_path is not a parameter (the schema is schema=; a search_path goes in options=).
    expect(() => parseDatabaseUrl('postgres://h/db?search_path=x', {})).toThrow(
      /^DATABASE_URL has a parameter neither the server nor its PostgreSQL driver reads: search_path=\. The server reads/,
    );
    // Only the name is repeated, never the value: a misspelt password= would otherwise reach the log.
    expect(() => parseDatabaseUrl('postgres://u@h/db?passwrd=hunter2', {})).toThrow(/Did you mean password=\?/);
    expect(() => parseDatabaseUrl('postgres://u@h/db?passwrd=hunter2', {})).not.toThrow(/hunter2/);
  });

  it("accepts every parameter pg reads, refuses the two that would harm the server's connections", () => {
    const url =
      'postgres://u@h/db?sslmode=verify-full&sslnegotiation=postgres&application_name=a&fallback_application_name=b&client_encoding=utf8' +
      '&statement_timeout=5000&idle_in_transaction_session_timeout=60000&query_timeout=10000&host=h2&port=6432&user=v&ssl=true&uselibpqcompat=true';
    expect(parseDatabaseUrl(url, {})).toMatchObject({ dialect: 'postgres', connectionString: url });
    expect(() => parseDatabaseUrl('postgres://h/db?lock_timeout=100', {})).toThrow(
      /^DATABASE_URL gives lock_timeout=: write it as options=-c%20lock_timeout%3D<ms> instead, so the admin CLI's own lock_timeout still holds over it\.$/,
    );
    expect(() => parseDatabaseUrl('postgres://h/db?replication=database', {})).toThrow(/^DATABASE_URL gives replication=: replication connections cannot/);
  });

  it('refuses a parameter given twice, a timeout that is not whole milliseconds, and an sslmode pg does not know', () => {
    // schema= read the first, pg the last.
    expect(() => parseDatabaseUrl('postgres://h/db?schema=a&schema=b', {})).toThrow(/^DATABASE_URL gives schema= more than once; give it once\.$/);
    // pg's parseInt made 5s five milliseconds.
    expect(() => parseDatabaseUrl('postgres://h/db?statement_timeout=5s', {})).toThrow(
      /^DATABASE_URL statement_timeout= must be a whole number of milliseconds, e\.g\. statement_timeout=5000\.$/,
    );
    expect(() => parseDatabaseUrl('postgres://h/db?sslmode=requre', {})).toThrow(
      /^DATABASE_URL sslmode= must be one of disable, prefer, require, verify-ca, verify-full, no-verify\. Did you mean sslmode=require\?$/,
    );
  });

  it("takes libpq's connect_timeout and keepalives out of the URL (pg ignored them there) as pg's own settings", () => {
    expect(parseDatabaseUrl('postgres://h/db?connect_timeout=7&keepalives=1&keepalives_idle=30&schema=s', {})).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://h/db',
      schema: 's',
      prepare: true,
      options: [],
      connectTimeoutMs: 7000,
      keepAlive: true,
      keepAliveInitialDelayMs: 30_000,
    });
    expect(parseDatabaseUrl('postgres://h/db?connect_timeout=0', {})).not.toHaveProperty('connectTimeoutMs');
    expect(() => parseDatabaseUrl('postgres://h/db?connect_timeout=5s', {})).toThrow(
      /^DATABASE_URL connect_timeout= must be a whole number of seconds, e\.g\. connect_timeout=10\.$/,
    );
    expect(() => parseDatabaseUrl('postgres://h/db?keepalives=yes', {})).toThrow(/^DATABASE_URL keepalives= must be 1 \(on\) or 0 \(off\)\.$/);
  });

  it('splits options as PostgreSQL does and writes them back to the same arguments', () => {
    expect(splitPostgresOptions('  -c a=1\t-c  b=two\\ words -c c=back\\\\slash -c d=end\\')).toEqual([
      '-c',
      'a=1',
      '-c',
      'b=two words',
      '-c',
      'c=back\\slash',
      '-c',
      'd=end',
    ]);
    const args = ['-c', 'x=two words', '-c', 'y=back\\slash', '-c', 'z=tab\there'];
    expect(splitPostgresOptions(joinPostgresOptions(args))).toEqual(args);
    // An empty argument (a backslash alone): PostgreSQL refuses it, and it cannot be written back.
    expect(() => parseDatabaseUrl(`postgres://h/db?options=${encodeURIComponent('-c a.b=1 \\')}`, {})).toThrow(
      /^DATABASE_URL options= holds a backslash standing alone \(\\\), which PostgreSQL refuses; write \\\\ for a backslash\.$/,
    );
  });
});

// pg let an `options=` in DATABASE_URL replace the options the server gave it: with
// `?options=-c statement_timeout=5000` the server ran without the search_path of its `schema=` (PostgreSQL's
// default schema, public, instead of its own) and the admin CLI without its lock_timeout.
describe('openDatabase on PostgreSQL with options of its own in DATABASE_URL', () => {
  let databaseUrl: string;
  let schema: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabaseUrl('postgres');
    ({ databaseUrl, drop } = database);
    schema = new URL(databaseUrl).searchParams.get('schema')!;
  });
  afterAll(async () => {
    await drop?.();
  });

  const withOptions = (options: string) => {
    const url = new URL(databaseUrl);
    url.searchParams.set('options', options);
    return url.toString();
  };
  /** What one pooled connection runs with. */
  const settingsOf = async (db: Kysely<Database>) => {
    try {
      return await db.connection().execute(async (connection) => {
        const show = async (name: string) => Object.values((await sql.raw<Record<string, string>>(`show ${name}`).execute(connection)).rows[0]!)[0];
        const current = await sql<{ schema: string }>`select current_schema() as schema`.execute(connection);
        return {
          searchPath: await show('search_path'),
          lockTimeout: await show('lock_timeout'),
          statementTimeout: await show('statement_timeout'),
          applicationName: await show('application_name'),
          currentSchema: current.rows[0]!.schema,
        };
      });
    } finally {
      await db.destroy();
    }
  };

  it("keeps the URL's statement_timeout and applies the server's search_path and the admin CLI's lock_timeout", async () => {
    expect(await settingsOf(openDatabase(withOptions('-c statement_timeout=4321'), { lockTimeoutMs: 1234 }))).toMatchObject({
      searchPath: schema,
      currentSchema: schema,
      lockTimeout: '1234ms',
      statementTimeout: '4321ms',
    });
    // The URL as an operator writes it, percent-encoded by hand.
    const handWritten = `${databaseUrl}&options=-c%20statement_timeout%3D5000`;
    expect(await settingsOf(openDatabase(handWritten))).toMatchObject({ searchPath: schema, currentSchema: schema, statementTimeout: '5s' });
  });

  it("keeps the URL's lock_timeout for the server; the admin CLI's own holds over it", async () => {
    expect(await settingsOf(openDatabase(withOptions('-c lock_timeout=777')))).toMatchObject({ searchPath: schema, lockTimeout: '777ms' });
    expect(await settingsOf(openDatabase(withOptions('-c lock_timeout=0'), { lockTimeoutMs: 1234 }))).toMatchObject({
      searchPath: schema,
      lockTimeout: '1234ms',
    });
  });

  it("keeps an escaped space in a value, and a lone backslash at the end cannot swallow the server's settings", async () => {
    expect(await settingsOf(openDatabase(withOptions('-c application_name=two\\ words -c statement_timeout=321'), { lockTimeoutMs: 1234 }))).toMatchObject({
      applicationName: 'two words',
      statementTimeout: '321ms',
      searchPath: schema,
      lockTimeout: '1234ms',
    });
    expect(await settingsOf(openDatabase(withOptions('-c application_name=end\\'), { lockTimeoutMs: 1234 }))).toMatchObject({
      applicationName: 'end',
      searchPath: schema,
      lockTimeout: '1234ms',
    });
  });

  it('names its connections latchkey in pg_stat_activity, unless the URL, PGAPPNAME or the options name them', async () => {
    expect(await settingsOf(openDatabase(databaseUrl))).toMatchObject({ applicationName: 'latchkey', searchPath: schema });
    expect(await settingsOf(openDatabase(`${databaseUrl}&application_name=mine`))).toMatchObject({ applicationName: 'mine', searchPath: schema });
    expect(await settingsOf(openDatabase(withOptions('-c application_name=optioned')))).toMatchObject({ applicationName: 'optioned' });
    const before = process.env.PGAPPNAME;
    process.env.PGAPPNAME = 'from-environment';
    try {
      expect(await settingsOf(openDatabase(databaseUrl))).toMatchObject({ applicationName: 'from-environment' });
    } finally {
      if (before === undefined) delete process.env.PGAPPNAME;
      else process.env.PGAPPNAME = before;
    }
  });

  it("applies PGOPTIONS beside the server's settings when the URL gives no options (they used to replace it)", async () => {
    const before = process.env.PGOPTIONS;
    process.env.PGOPTIONS = '-c statement_timeout=2345';
    let db: Kysely<Database>;
    try {
      db = openDatabase(databaseUrl, { lockTimeoutMs: 1234 });
    } finally {
      if (before === undefined) delete process.env.PGOPTIONS;
      else process.env.PGOPTIONS = before;
    }
    expect(await settingsOf(db)).toMatchObject({ searchPath: schema, lockTimeout: '1234ms', statementTimeout: '2345ms' });
  });
});

describe('openDatabase on a SQLite location that cannot hold a database', () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'latchkey-open-database-'));
  });
  afterEach(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('creates the missing directories of a good location, as before', async () => {
    const file = path.join(scratch, 'a', 'b', 'latchkey.db');
    const db = openDatabase(`sqlite:${file}`);
    await db.destroy();
    expect(existsSync(file)).toBe(true);
  });

  it('refuses a file that holds no database, says so and leaves it as it was', () => {
    const file = path.join(scratch, 'notes.txt');
    writeFileSync(file, "not a database, but somebody's notes\n".repeat(200));
    expect(() => openDatabase(`sqlite:${file}`)).toThrow(
      new RegExp(
        `^DATABASE_URL "sqlite:${file}" cannot hold a database: ${file} is not a SQLite database \\(another kind of file, or a damaged one\\); it was left as it is\\. `,
      ),
    );
    // The place is fine, the file is not: no advice to find a writable directory (review), but what to point at instead.
    expect(() => openDatabase(`sqlite:${file}`)).not.toThrow(/writable directory/);
    expect(() => openDatabase(`sqlite:${file}`)).toThrow(/Point it at the server's database file/);
    expect(readFileSync(file, 'utf8')).toBe("not a database, but somebody's notes\n".repeat(200));
    expect(readdirSync(scratch)).toEqual(['notes.txt']);
  });

  it('refuses a path below a file, naming DATABASE_URL and the directory', () => {
    const file = path.join(scratch, 'not-a-directory');
    writeFileSync(file, '');
    expect(() => openDatabase(`sqlite:${file}/latchkey.db`)).toThrow(
      new RegExp(`^DATABASE_URL "sqlite:${file}/latchkey\\.db" cannot hold a database: ${file} is not a directory`),
    );
  });

  it('refuses a directory given as the database file, naming DATABASE_URL and a file to name instead', () => {
    expect(() => openDatabase(`sqlite:${scratch}`)).toThrow(
      new RegExp(
        `^DATABASE_URL "sqlite:${scratch}" cannot hold a database: ${scratch} is a directory; name a file in it, e.g. sqlite:${scratch}/latchkey\\.db`,
      ),
    );
  });

  it.skipIf(process.platform !== 'linux')('says what SQLite said when it cannot open the file (it said only "unable to open database file")', () => {
    expect(() => openDatabase('sqlite:/proc/self/latchkey.db')).toThrow(
      /^DATABASE_URL "sqlite:\/proc\/self\/latchkey\.db" cannot hold a database: SQLite cannot open it \(unable to open database file\)/,
    );
  });

  it.skipIf(process.platform !== 'linux')(
    'refuses a FIFO or a device before SQLite touches it (it said "disk I/O error"; beside /dev/null, run as root, it left a journal)',
    () => {
      const fifo = path.join(scratch, 'fifo');
      execFileSync('mkfifo', [fifo]);
      expect(() => openDatabase(`sqlite:${fifo}`)).toThrow(new RegExp(`^DATABASE_URL "sqlite:${fifo}" cannot hold a database: ${fifo} is not a regular file`));
      expect(readdirSync(scratch)).toEqual(['fifo']);
    },
  );
});
