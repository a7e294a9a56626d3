import { describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { openDatabase } from '../open-database.js';
import type { Database } from '../schema.js';
import { createTestDatabaseUrl } from '../test-database.js';
import { DIALECTS } from '../../testing/service-harness.js';
import * as initial from './001-initial.js';
import * as housekeeping from './002-housekeeping-indexes.js';
import * as labelKey from './003-webauthn-label-key.js';

describe.each(DIALECTS)('migration 003 (security-key label key) on %s', (dialect) => {
  it('renames labels that already collide case-insensitively, then lets the database refuse new collisions', async () => {
    const database = await createTestDatabaseUrl(dialect);
    const db = openDatabase(database.databaseUrl);
    try {
      const before = db as unknown as Kysely<unknown>;
      await initial.up(before);
      await housekeeping.up(before);
      const legacy = db as unknown as Kysely<{ users: Record<string, unknown>; webauthn_credentials: Record<string, unknown> }>;
      await legacy
        .insertInto('users')
        .values({ id: 'u1', username: 'alice', email: 'a@example.org', password_hash: 'x', created_at: 1, password_changed_at: 1 })
        .execute();
      const key = (label: string, n: number) => ({
        user_id: 'u1',
        credential_id: `c${n}`,
        public_key: 'AA',
        sign_count: 0,
        transports: null,
        label,
        created_at: n,
      });
      // What the old code-only check let through under a race, plus a label that already ends in " (2)".
      await legacy
        .insertInto('webauthn_credentials')
        .values([key('Blue key', 1), key('blue KEY', 2), key('BLUE KEY', 3), key('blue key (2)', 4)])
        .execute();

      await labelKey.up(db as unknown as Parameters<typeof labelKey.up>[0]);

      const rows = await (db as Kysely<Database>).selectFrom('webauthn_credentials').select(['label', 'label_key']).orderBy('id').execute();
      expect(rows).toEqual([
        { label: 'Blue key', label_key: 'blue key' },
        { label: 'blue KEY (2)', label_key: 'blue key (2)' },
        { label: 'BLUE KEY (3)', label_key: 'blue key (3)' },
        { label: 'blue key (2) (2)', label_key: 'blue key (2) (2)' },
      ]);
      await expect(
        (db as Kysely<Database>)
          .insertInto('webauthn_credentials')
          .values({ ...key('BLUE Key', 5), label_key: 'blue key', last_used_at: null })
          .execute(),
      ).rejects.toThrow(/unique/i);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
