import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { hmac, type ServerKeys, safeEqual } from './keys.js';

const ROW = 'secret-key';

/** What is said when the key differs: the server and the admin CLI say the same. */
export const KEY_MISMATCH =
  'LATCHKEY_SECRET_KEY is not the key this database was written with: the TOTP secrets, pending mail and links sealed ' +
  'under it could not be opened, and anything written now could not be read by the servers using the right one. ' +
  "Start with the database's own key (the server's environment, or the generated key in the config directory of the " +
  'system user that first ran it).';

/** The check value: an HMAC under the key's own purpose, so it says nothing about the key or any other derived key. */
function checkValue(keys: ServerKeys): string {
  return hmac(keys['key-check'], 'latchkey secret key check v1');
}

/**
 * Compare this process's key with the one the database records. `record`: when the database records none
 * yet (a new database, or one from before migration 009), this key becomes its key — the server does this
 * at start; the admin CLI, whose environment may be the wrong one, never does. Returns `'matches'`,
 * `'recorded'`, `'unknown'` (none recorded and not recording) or `'differs'`.
 */
export async function checkSecretKey(
  db: Kysely<Database>,
  keys: ServerKeys,
  options: { record: boolean },
): Promise<'matches' | 'recorded' | 'unknown' | 'differs'> {
  const value = checkValue(keys);
  const stored = await db.selectFrom('key_check').select('value').where('name', '=', ROW).executeTakeFirst();
  if (stored) return safeEqual(stored.value, value) ? 'matches' : 'differs';
  if (!options.record) return 'unknown';
  // Two instances starting on a new database at once: the first insert wins, the other compares with it.
  await db
    .insertInto('key_check')
    .values({ name: ROW, value })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .execute();
  return (await checkSecretKey(db, keys, { record: false })) === 'matches' ? 'recorded' : 'differs';
}
