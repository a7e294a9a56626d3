import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, parseDatabaseUrl, withStatementCache } from './open-database.js';

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
    expect(parseDatabaseUrl('postgres://u@h:5432/db?schema=t_1')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://u@h:5432/db',
      schema: 't_1',
      prepare: true,
    });
    expect(parseDatabaseUrl('postgres://u@h:5432/db?prepare=off')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://u@h:5432/db',
      schema: null,
      prepare: false,
    });
    expect(() => parseDatabaseUrl('postgres://h/db?prepare=maybe')).toThrow(/must be "on" \(the default\) or "off"/);
    expect(() => parseDatabaseUrl('sqlite:')).toThrow(/needs a file path/);
    expect(() => parseDatabaseUrl('postgres://h/db?schema=Bad-Name')).toThrow(/plain lower-case identifier/);
    expect(() => parseDatabaseUrl('mysql://h/db')).toThrow(/must be "sqlite:PATH"/);
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
