import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { migrations as allMigrations } from './db/migrations/index.js';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { loadConfig, testConfig } from './config.js';
import { createTestDatabaseUrl } from './db/test-database.js';
import { DIALECTS } from './testing/service-harness.js';

describe.each(DIALECTS)('createApp on %s', (dialect) => {
  // Two instances at once: concurrently for PostgreSQL (async driver). better-sqlite3 is synchronous, so two
  // instances in ONE process would block each other's event loop while waiting for the lock; cross-process
  // SQLite start-up races are covered by test/src/reliability/crash-safety.test.ts.
  it('migrates once when two instances start on one database, and again is a no-op', async () => {
    const database = await createTestDatabaseUrl(dialect);
    try {
      const config = testConfig({ databaseUrl: database.databaseUrl });
      const apps = dialect === 'postgres' ? await Promise.all([createApp(config), createApp(config)]) : [await createApp(config), await createApp(config)];
      try {
        const [first, second] = apps;
        await first!.services.accounts.register({ username: 'alice', email: 'a@example.org', password: 'correct horse battery staple' });
        expect((await second!.services.accounts.findByUsername('alice'))?.username).toBe('alice');
        const migrations = await first!.db
          .selectFrom('kysely_migration' as never)
          .select('name' as never)
          .execute();
        expect(migrations.map((row) => (row as { name: string }).name)).toEqual(Object.keys(allMigrations));
      } finally {
        await Promise.all(apps.map((app) => app.close()));
      }
      const third = await createApp(config);
      await third.close();
    } finally {
      await database.drop();
    }
  });
});

describe('createApp mail start-up warning', () => {
  it('warns in production when mail only goes to .eml files (no LATCHKEY_SMTP_URL), not in development or with SMTP', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'latchkey-app-'));
    try {
      const base = { LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64url'), DATABASE_URL: `sqlite:${path.join(directory, 'db.sqlite')}` };
      const warningOf = async (env: NodeJS.ProcessEnv) => {
        const app = await createApp(await loadConfig(env));
        await app.close();
        return app.mailWarning;
      };
      expect(await warningOf({ ...base, NODE_ENV: 'production' })).toMatch(/LATCHKEY_SMTP_URL is not set: no mail leaves this server/);
      expect(await warningOf({ ...base, NODE_ENV: 'development' })).toBeNull();
      expect(await warningOf({ ...base, NODE_ENV: 'production', LATCHKEY_SMTP_URL: 'smtp://127.0.0.1:2525' })).toBeNull();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
