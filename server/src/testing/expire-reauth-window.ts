import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { REAUTH_WINDOW_MS } from '../services/sessions.js';

/**
 * Dates the last proof of the password of every session of `userId` a minute past the re-authentication window
 * (a session someone stole, say): security changes then ask for the password again.
 */
export async function expireReauthWindow(db: Kysely<Database>, userId: string): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ authenticated_at: Date.now() - REAUTH_WINDOW_MS - 60_000 })
    .where('user_id', '=', userId)
    .execute();
}
