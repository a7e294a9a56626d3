import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testConfig, type Config } from '../config.js';
import { createApp } from '../app.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import type * as OpenDatabase from '../db/open-database.js';
import { EXIT, adminMain, type AdminIo } from './admin.js';
import { DatabaseProblem, openServerDatabase } from './server-database.js';

/**
 * Where the CLI's read-only look succeeds but the writable open is refused (the directory not writable for
 * the operator, so WAL cannot start): root, who runs these tests, is refused nothing, so the open is made to
 * throw what openDatabase throws there — the real DatabaseLocationError, for the one URL named here.
 */
const refused = vi.hoisted(() => ({ url: null as string | null }));
vi.mock('../db/open-database.js', async (importOriginal) => {
  const original = await importOriginal<typeof OpenDatabase>();
  return {
    ...original,
    openDatabase: (databaseUrl: string) => {
      if (databaseUrl === refused.url) {
        throw new original.DatabaseLocationError(databaseUrl, 'SQLite cannot open it (attempt to write a readonly database)');
      }
      return original.openDatabase(databaseUrl);
    },
  };
});

function captureIo(): AdminIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (line) => out.push(line), stderr: (line) => err.push(line), readStdin: async () => '' };
}

describe('the admin CLI opening a database whose location cannot hold it', () => {
  let config: Config;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabaseUrl('sqlite');
    drop = database.drop;
    config = testConfig({ databaseUrl: database.databaseUrl });
    // A server set it up: the CLI's own checks (exists, Latchkey tables, migrations) all pass.
    await (await createApp(config)).close();
    refused.url = config.databaseUrl;
  });
  afterAll(async () => {
    refused.url = null;
    await drop?.();
  });

  it('openServerDatabase says it as a DatabaseProblem with the message naming DATABASE_URL', async () => {
    const opened = openServerDatabase(config.databaseUrl);
    await expect(opened).rejects.toBeInstanceOf(DatabaseProblem);
    await expect(opened).rejects.toThrow(/^DATABASE_URL "sqlite:.*" cannot hold a database: SQLite cannot open it \(attempt to write a readonly database\)\./);
  });

  it('is a "Database error" (exit 2, nothing changed), one line, not an unexpected failure (exit 3)', async () => {
    const io = captureIo();
    // Before: "admin: DATABASE_URL … cannot hold a database …" and exit 3, the code of a bug or a half-done command.
    expect(await adminMain(['events', '--username', 'alice'], io, config)).toBe(EXIT.environment);
    expect(io.err).toHaveLength(1);
    expect(io.err[0]).toMatch(/^Database error: DATABASE_URL "sqlite:.*" cannot hold a database: .* Nothing was changed\.$/);
    expect(io.err[0]).not.toMatch(/\n\s+at /);
    expect(io.out).toEqual([]);
  });
});
