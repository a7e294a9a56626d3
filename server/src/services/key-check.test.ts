import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { testConfig } from '../config.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { checkSecretKey, KEY_MISMATCH } from './key-check.js';
import { deriveServerKeys } from './keys.js';

const otherKeys = () => deriveServerKeys(testConfig({ databaseUrl: 'sqlite::memory:' }).secretKey);

describe.each(DIALECTS)('the secret key check on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  it('is recorded by the first process allowed to, then tells the same key from any other', async () => {
    await h.db.deleteFrom('key_check').execute();
    expect(await checkSecretKey(h.db, h.services.keys, { record: false })).toBe('unknown');
    expect(await checkSecretKey(h.db, otherKeys(), { record: false })).toBe('unknown');
    expect(await checkSecretKey(h.db, h.services.keys, { record: true })).toBe('recorded');
    expect(await checkSecretKey(h.db, h.services.keys, { record: true })).toBe('matches');
    expect(await checkSecretKey(h.db, otherKeys(), { record: true })).toBe('differs');
    expect(await checkSecretKey(h.db, otherKeys(), { record: false })).toBe('differs');
    // The stored value is no key: nothing in it is any derived key, in any encoding.
    const { value } = await h.db.selectFrom('key_check').select('value').executeTakeFirstOrThrow();
    for (const key of Object.values(h.services.keys)) expect(value).not.toContain(key.toString('base64url'));
  });

  it('two processes with different keys starting at once on a new database: exactly one key is recorded, the other told', async () => {
    await h.db.deleteFrom('key_check').execute();
    const results = await Promise.all([checkSecretKey(h.db, h.services.keys, { record: true }), checkSecretKey(h.db, otherKeys(), { record: true })]);
    expect(results.sort()).toEqual(['differs', 'recorded']);
  });
});

describe.each(DIALECTS)('a server started with another key on %s', (dialect) => {
  it('refuses to start, saying why, and the database keeps its own key', async () => {
    const database = await createTestDatabaseUrl(dialect);
    try {
      const first = testConfig({ databaseUrl: database.databaseUrl });
      await (await createApp(first)).close();
      await expect(createApp(testConfig({ databaseUrl: database.databaseUrl }))).rejects.toThrow(KEY_MISMATCH);
      // Its own key still starts it.
      await (await createApp(first)).close();
    } finally {
      await database.drop();
    }
  });
});
