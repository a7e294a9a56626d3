import { type Kysely, type MigrationProvider, Migrator } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emailKey } from '../../services/email-address.js';
import { EVENT_TAGS } from '../../services/events.js';
import { DIALECTS } from '../../testing/service-harness.js';
import { migrateToLatest } from '../migrate.js';
import { openDatabase } from '../open-database.js';
import type { Database } from '../schema.js';
import { createTestDatabaseUrl } from '../test-database.js';
import { emailKey010, TAGS_010 } from './010-email-keys.js';
import { migrations } from './index.js';

/** The database as the previous release left it: every migration up to 009. */
async function atMigration009(db: Kysely<Database>): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const { error } = await new Migrator({ db, provider }).migrateTo('009-key-check');
  if (error) throw error;
}

interface OldRow {
  user: string;
  email: string;
  primary?: boolean;
  verifiedAt?: number;
}

describe.each(DIALECTS)('migration 010 (address keys under the current rule) on %s', (dialect) => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('re-keys rows stored under the old rule and resolves the duplicates it finds, recording what it did', async () => {
    const database = await createTestDatabaseUrl(dialect);
    const db = openDatabase(database.databaseUrl);
    const warnings: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: unknown) => {
      warnings.push(String(line));
    });
    try {
      await atMigration009(db);
      for (const name of ['ann', 'bea', 'cid', 'dee', 'eve', 'fay']) {
        await db
          .insertInto('users')
          .values({ id: `u-${name}`, username: name, email: `${name}@example.org`, password_hash: 'x', created_at: 1, password_changed_at: 1 })
          .execute();
      }
      // As the code before the current rule stored them: the text as typed, the key trimmed and lower-cased only.
      const rows: OldRow[] = [
        // ann: her primary in a Unicode domain (unverified), and the same mailbox added and verified in its ASCII form.
        { user: 'ann', email: 'Ann@exämple.org', primary: true },
        { user: 'ann', email: 'ann@xn--exmple-cua.org', verifiedAt: 30 },
        // ann: one mailbox twice, a decomposed and a precomposed "ö", neither verified nor primary: the older stays.
        { user: 'ann', email: 'jo\u0308rg@example.org' },
        { user: 'ann', email: 'j\u00f6rg@example.org' },
        // bea's verified primary, and cid's verified second address for the same mailbox (verified earlier).
        { user: 'bea', email: 'bea@exämple.org', primary: true, verifiedAt: 100 },
        { user: 'cid', email: 'cid@example.org', primary: true, verifiedAt: 5 },
        { user: 'cid', email: 'BEA@xn--exmple-cua.org', verifiedAt: 50 },
        // Two accounts' verified primaries for one mailbox: the first to verify keeps it.
        { user: 'dee', email: 'dee@bücher.example', primary: true, verifiedAt: 10 },
        { user: 'eve', email: 'dee@xn--bcher-kva.example', primary: true, verifiedAt: 20 },
        // No collision: only the key changes (an unverified copy of another account's verified address may stay).
        { user: 'fay', email: 'fay@exämple.org', primary: true },
        { user: 'fay', email: 'ann@exämple.org' },
      ];
      for (const [index, row] of rows.entries()) {
        await db
          .insertInto('user_emails')
          .values({
            user_id: `u-${row.user}`,
            email: row.email,
            email_key: row.email.trim().toLowerCase(),
            is_primary: row.primary ? 1 : 0,
            verified_at: row.verifiedAt ?? null,
            verify_nonce: row.verifiedAt ? null : `nonce-${index}`,
            verify_sent_at: null,
            created_at: index,
          })
          .execute();
      }

      await migrateToLatest(db);

      const after = await db
        .selectFrom('user_emails')
        .innerJoin('users', 'users.id', 'user_emails.user_id')
        .select([
          'users.username',
          'user_emails.email',
          'user_emails.email_key',
          'user_emails.is_primary',
          'user_emails.verified_at',
          'user_emails.verify_nonce',
        ])
        .orderBy('user_emails.id')
        .execute();
      expect(after.map((row) => ({ ...row, verified_at: row.verified_at === null ? null : Number(row.verified_at) }))).toEqual([
        // The primary row stays and takes the verification its removed duplicate had (the link it held is void).
        { username: 'ann', email: 'Ann@exämple.org', email_key: 'ann@xn--exmple-cua.org', is_primary: 1, verified_at: 30, verify_nonce: null },
        { username: 'ann', email: 'jo\u0308rg@example.org', email_key: 'j\u00f6rg@example.org', is_primary: 0, verified_at: null, verify_nonce: 'nonce-2' },
        { username: 'bea', email: 'bea@exämple.org', email_key: 'bea@xn--exmple-cua.org', is_primary: 1, verified_at: 100, verify_nonce: null },
        { username: 'cid', email: 'cid@example.org', email_key: 'cid@example.org', is_primary: 1, verified_at: 5, verify_nonce: null },
        // Where it is a primary address wins over who verified first: it is where that account's notices go.
        { username: 'cid', email: 'BEA@xn--exmple-cua.org', email_key: 'bea@xn--exmple-cua.org', is_primary: 0, verified_at: null, verify_nonce: null },
        { username: 'dee', email: 'dee@bücher.example', email_key: 'dee@xn--bcher-kva.example', is_primary: 1, verified_at: 10, verify_nonce: null },
        { username: 'eve', email: 'dee@xn--bcher-kva.example', email_key: 'dee@xn--bcher-kva.example', is_primary: 1, verified_at: null, verify_nonce: null },
        { username: 'fay', email: 'fay@exämple.org', email_key: 'fay@xn--exmple-cua.org', is_primary: 1, verified_at: null, verify_nonce: 'nonce-9' },
        { username: 'fay', email: 'ann@exämple.org', email_key: 'ann@xn--exmple-cua.org', is_primary: 0, verified_at: null, verify_nonce: 'nonce-10' },
      ]);

      // What was removed or changed is in the account's own history.
      const events = await db.selectFrom('events').select(['user_id', 'tag', 'details']).orderBy('id').execute();
      expect(events.map((event) => ({ ...event, details: JSON.parse(event.details) as unknown }))).toEqual([
        {
          user_id: 'u-ann',
          tag: 'account:email:removed',
          details: { email: 'ann@xn--exmple-cua.org', verified: true, by: 'migration', kept: 'Ann@exämple.org' },
        },
        {
          user_id: 'u-ann',
          tag: 'account:email:removed',
          details: { email: 'j\u00f6rg@example.org', verified: false, by: 'migration', kept: 'jo\u0308rg@example.org' },
        },
        { user_id: 'u-ann', tag: 'account:email:verified', details: { email: 'Ann@exämple.org', by: 'migration' } },
        // A verification taken away is said in the history of the account that lost it, naming its own row's
        // address only: never the account that kept it (its name or its spelling of the address).
        { user_id: 'u-cid', tag: 'account:email:verification_withdrawn', details: { email: 'BEA@xn--exmple-cua.org', by: 'migration' } },
        { user_id: 'u-eve', tag: 'account:email:verification_withdrawn', details: { email: 'dee@xn--bcher-kva.example', by: 'migration' } },
      ]);
      for (const event of events.filter((row) => row.tag === 'account:email:verification_withdrawn')) {
        for (const other of ['u-bea', '"bea"', 'bea@exämple.org', 'u-dee', '"dee"', 'dee@bücher.example']) expect(event.details).not.toContain(other);
      }
      // Never mailed: 010 holds no mail key, and nothing of it reaches the outbox.
      expect(await db.selectFrom('mail_outbox').selectAll().execute()).toEqual([]);
      // And the operator is told by account name, never by address (personal data in a log).
      expect(warnings).toEqual([
        '[latchkey] migration 010-email-keys: account "ann": removed 2 address rows that duplicated others under the current comparison rule (recorded in its security history).',
        '[latchkey] migration 010-email-keys: account "cid": one of its addresses is no longer verified: account "bea" verified the same address (in another spelling) and keeps it (recorded in its security history). Its owner can verify another address.',
        '[latchkey] migration 010-email-keys: account "eve": one of its addresses is no longer verified: account "dee" verified the same address (in another spelling) and keeps it (recorded in its security history). Its owner can verify another address.',
      ]);
      expect(warnings.join('\n')).not.toContain('@');

      // The database's own checks now hold under the current rule: the same mailbox in another spelling is refused.
      await expect(
        db
          .insertInto('user_emails')
          .values({
            user_id: 'u-ann',
            email: 'ann@XN--EXMPLE-CUA.ORG',
            email_key: 'ann@xn--exmple-cua.org',
            is_primary: 0,
            verified_at: null,
            verify_nonce: null,
            verify_sent_at: null,
            created_at: 99,
          })
          .execute(),
      ).rejects.toThrow(/unique/i);
      await expect(db.updateTable('user_emails').set({ verified_at: 1 }).where('user_id', '=', 'u-eve').execute()).rejects.toThrow(/unique/i);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });

  it('changes nothing and says nothing on a database whose keys already follow the rule', async () => {
    const database = await createTestDatabaseUrl(dialect);
    const db = openDatabase(database.databaseUrl);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await atMigration009(db);
      await db
        .insertInto('users')
        .values({ id: 'u1', username: 'alice', email: 'alice@xn--exmple-cua.org', password_hash: 'x', created_at: 1, password_changed_at: 1 })
        .execute();
      await db
        .insertInto('user_emails')
        .values({
          user_id: 'u1',
          email: 'Alice@xn--exmple-cua.org',
          email_key: 'alice@xn--exmple-cua.org',
          is_primary: 1,
          verified_at: 7,
          verify_nonce: null,
          verify_sent_at: null,
          created_at: 1,
        })
        .execute();
      const before = await db.selectFrom('user_emails').selectAll().execute();
      await migrateToLatest(db);
      expect(await db.selectFrom('user_emails').selectAll().execute()).toEqual(before);
      expect(await db.selectFrom('events').selectAll().execute()).toEqual([]);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});

describe('migration 010 keeps its own copy of the rule and tags of its day', () => {
  // The copy must give today's keys (what 010 shipped with), or databases migrated now and earlier differ.
  // A change to `emailKey` that makes this fail needs a migration of its own to re-key the rows, not an edit of 010.
  it.each([
    'alice@example.org',
    '  Alice@Example.ORG  ',
    'Ann@exämple.org',
    'ann@EXÄMPLE.ORG',
    'ann@xn--exmple-cua.org',
    'ann@XN--EXMPLE-CUA.ORG',
    'jo\u0308rg@example.org',
    'J\u00d6RG@example.org',
    'ann@exa\u0308mple.org',
    'dee@bücher.example',
    'dee@BU\u0308CHER.example',
    'user@例え.テスト',
    'user@пример.рф',
    'user@example．org',
    'user@example。org',
    'straße@faß.de',
    'İstanbul@example.org',
    'ΟΔΟΣ@ΕΛΛΑΔΑ.gr',
    '\u212bngstrom@example.org',
    'a@b@exämple.org',
    'alice',
    'Alice Smith',
    '',
    'user@xn--zz',
    'user@exa%mple.org',
    'user@-bad-.example',
    'user@example.org.',
    'user@🙂.example',
  ])('%j', (address) => {
    expect(emailKey010(address)).toBe(emailKey(address));
  });

  // Its events stay in the history's words only while these tags are still the server's: renaming one needs a
  // migration for the rows already written, not an edit of 010.
  it('writes only tags the server still records and describes', () => {
    expect(Object.values(EVENT_TAGS)).toEqual(expect.arrayContaining(Object.values(TAGS_010)));
  });
});
