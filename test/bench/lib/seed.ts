// Bulk seeding for the bench. Users go straight into the table in big transactions (registering them one by
// one would spend the whole time budget on argon2 and round trips); everything security-relevant is then
// done by the server's own services (enabling TOTP seals the secret under the server's key, login tokens
// are issued by the token service), so the server under test sees users exactly like registered ones.
import { randomBytes, randomUUID } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { migrateToLatest, openDatabase, parseDatabaseUrl } from '../../../server/src/db/index.js';
import { deriveServerKeys } from '../../../server/src/services/keys.js';
import { seal } from '../../../server/src/services/secret-box.js';

export interface SeededUser {
  id: string;
  username: string;
}

/** Runs the server's migrations once, so seeding can happen before the servers start. */
export async function migrate(databaseUrl: string): Promise<void> {
  const db = openDatabase(databaseUrl);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}

const USER_COLUMNS = [
  'id',
  'username',
  'email',
  'password_hash',
  'created_at',
  'password_changed_at',
  'totp_secret_enc',
  'totp_last_step',
  'totp_enabled_at',
  'security_epoch',
] as const;
const INSERT_USER = `INSERT INTO users (${USER_COLUMNS.join(', ')}) VALUES (${USER_COLUMNS.map(() => '?').join(', ')})`;
type UserRow = [string, string, string, string, number, number, string | null, null, number | null, number];

export interface SeedTotp {
  /** base32, canonical (upper case, no padding). */
  secret: string;
  /** The server's LATCHKEY_SECRET_KEY. */
  secretKey: string;
}

/**
 * Inserts `count` users `<prefix>0` … (own random id, the given argon2id hash) in one transaction. The hash
 * is computed once by the caller with the server's cost and shared: these users all have the same password,
 * which changes nothing about the work the server does per login.
 *
 * With `totp`, TOTP is on: the secret is sealed with the server's secret box under the server's derived
 * TOTP key and the associated data services/totp.ts uses (`totp:<user id>`). That convention is the one
 * thing copied here (enabling TOTP through the service costs two statements per user, too slow for pools of
 * thousands on PostgreSQL); callers verify a seeded user through `services.totp.verify` before relying on it.
 */
export async function seedUsers(databaseUrl: string, prefix: string, count: number, passwordHash: string, totp?: SeedTotp): Promise<SeededUser[]> {
  const now = Date.now();
  const totpKey = totp ? deriveServerKeys(totp.secretKey)['totp-secret'] : undefined;
  const users: SeededUser[] = [];
  const rows: UserRow[] = [];
  for (let i = 0; i < count; i++) {
    const user = { id: randomUUID(), username: `${prefix}${i}` };
    users.push(user);
    const sealed = totp && totpKey ? seal(totpKey, totp.secret, `totp:${user.id}`) : null;
    rows.push([user.id, user.username, `${user.username}@bench.invalid`, passwordHash, now, now, sealed, null, sealed ? now : null, 0]);
  }
  const target = parseDatabaseUrl(databaseUrl);
  if (target.dialect === 'sqlite') {
    withSqlite(target.path, (database) => {
      const insert = database.prepare(INSERT_USER);
      database.transaction(() => {
        for (const row of rows) insert.run(...row);
      })();
    });
    return users;
  }
  // One array parameter per column, unnest()ed server-side: 10 000 rows per statement, one transaction.
  const types = ['text', 'text', 'text', 'text', 'bigint', 'bigint', 'text', 'bigint', 'bigint', 'integer'];
  await withPostgres(target.connectionString, target.schema, async (client) => {
    await client.query('BEGIN');
    for (let start = 0; start < rows.length; start += 10_000) {
      const chunk = rows.slice(start, start + 10_000);
      await client.query(
        `INSERT INTO users (${USER_COLUMNS.join(', ')}) SELECT * FROM unnest(${types.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})`,
        USER_COLUMNS.map((_, column) => chunk.map((row) => row[column])),
      );
    }
    await client.query('COMMIT');
  });
  return users;
}

/**
 * Inserts filler users `filler<from>` … `filler<to - 1>` (so a scale level adds to the previous one),
 * shaped like TOTP users (a ciphertext-sized blob in totp_secret_enc) so rows and pages have a
 * realistic size. They are never logged in; they make the table and its indexes big.
 */
export async function seedFillerUsers(databaseUrl: string, from: number, to: number, passwordHash: string): Promise<void> {
  const target = parseDatabaseUrl(databaseUrl);
  const now = Date.now();
  // Same length as a sealed 32-character base32 secret: "v1." + base64url(12 nonce + 32 + 16 tag).
  const blob = `v1.${randomBytes(60).toString('base64url')}`;
  if (target.dialect === 'sqlite') {
    withSqlite(target.path, (database) => {
      const insert = database.prepare(INSERT_USER);
      // 100 000 rows per transaction: as fast as one (a prepared statement, no per-row commit), but each
      // write lock is short, so a request still finishing on the running server does not hit its 5 s busy timeout.
      const chunk = database.transaction((start: number, end: number) => {
        for (let i = start; i < end; i++) insert.run(randomUUID(), `filler${i}`, `filler${i}@bench.invalid`, passwordHash, now, now, blob, null, now, 0);
      });
      for (let start = from; start < to; start += 100_000) chunk(start, Math.min(to, start + 100_000));
    });
    return;
  }
  // PostgreSQL builds the rows itself: one statement, no per-row round trip.
  await withPostgres(target.connectionString, target.schema, (client) =>
    client.query(
      `INSERT INTO users (${USER_COLUMNS.join(', ')})
       SELECT gen_random_uuid()::text, 'filler' || n, 'filler' || n || '@bench.invalid', $1, $2, $2, $3, NULL, $2, 0
       FROM generate_series($4::bigint, $5::bigint) AS n`,
      [passwordHash, now, blob, from, to - 1],
    ),
  );
  await withPostgres(target.connectionString, target.schema, (client) => client.query('ANALYZE users'));
}

function withSqlite(file: string, work: (database: SQLite.Database) => void): void {
  const database = new SQLite(file);
  try {
    database.pragma('busy_timeout = 5000');
    work(database);
  } finally {
    database.close();
  }
}

async function withPostgres<T>(connectionString: string, schema: string | null, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Runs `work` over `items` with at most `concurrency` in flight (PostgreSQL round trips overlap). */
export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
