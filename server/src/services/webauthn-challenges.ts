/**
 * WebAuthn challenges: random, stored server-side, bound to one user and one ceremony — and a login's to
 * that very login — valid for five minutes and usable once (ASVS V2.9.2: a nonce of at least 64 bits, unique;
 * NIST SP 800-63B 5.2.8 replay resistance). Consumption is one atomic `DELETE … RETURNING`, so two requests
 * (or two server instances) racing on one response cannot both get the challenge.
 */
import { createHash, getRandomValues } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';

/** How long a challenge stays usable. */
export const CHALLENGE_TTL_MS = 5 * 60_000;

/**
 * Open challenges kept per user: each options request stores one, and a person has at most a few
 * ceremonies going at once (tabs, retries). Older ones are dropped, so someone holding a session or a
 * two-factor token cannot grow the table without bound by asking for options in a loop.
 */
export const MAX_OPEN_CHALLENGES_PER_USER = 10;

/** Bytes of randomness per challenge (WebAuthn asks for at least 16). */
const CHALLENGE_BYTES = 32;

/** A fresh random challenge (the raw bytes go into the options; the base64url text is the key). */
export function newChallenge(): Uint8Array<ArrayBuffer> {
  return getRandomValues(new Uint8Array(CHALLENGE_BYTES));
}

/**
 * Which ceremony a challenge is for: adding a key, or one login — named by its two-factor token T (stored as a
 * digest: T is a bearer credential for the second step). A login's challenge answers only that login, as the
 * WebAuthn ceremony is one exchange between one relying-party session and the authenticator (WebAuthn L2
 * 13.4.3; NIST SP 800-63B 5.2.8): an answer to the options of one pending login must not complete another
 * pending login of the same account, whoever started it.
 */
export type CeremonyFor = { ceremony: 'registration' } | { ceremony: 'authentication'; login: string };

function loginDigest(of: CeremonyFor): string | null {
  return of.ceremony === 'authentication' ? createHash('sha256').update(`webauthn-login:${of.login}`).digest('base64url') : null;
}

/** Stores `challenge` (base64url, as it appears in the options JSON) for this user and ceremony. */
export async function storeChallenge(db: Kysely<Database>, challenge: string, userId: string, of: CeremonyFor, now: number): Promise<void> {
  // Expired rows are garbage: clear them as we go (indexed on expires_at), so the table stays small.
  await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', now).execute();
  await db
    .insertInto('webauthn_challenges')
    .values({ challenge, user_id: userId, ceremony: of.ceremony, expires_at: now + CHALLENGE_TTL_MS, login_digest: loginDigest(of) })
    .execute();
  await db
    .deleteFrom('webauthn_challenges')
    .where('user_id', '=', userId)
    .where('challenge', 'not in', (eb) =>
      eb.selectFrom('webauthn_challenges').select('challenge').where('user_id', '=', userId).orderBy('expires_at', 'desc').limit(MAX_OPEN_CHALLENGES_PER_USER),
    )
    .execute();
}

/**
 * Burns the challenge if it exists, belongs to `userId`, was issued for this ceremony (a login's: for this
 * login) and has not expired. Returns true exactly once per stored challenge; an answer presented for another
 * login leaves it unused, so it cannot spend the login's own challenge either.
 */
export async function consumeChallenge(db: Kysely<Database>, challenge: string, userId: string, of: CeremonyFor, now: number): Promise<boolean> {
  const digest = loginDigest(of);
  const row = await db
    .deleteFrom('webauthn_challenges')
    .where('challenge', '=', challenge)
    .where('user_id', '=', userId)
    .where('ceremony', '=', of.ceremony)
    .where((eb) => (digest === null ? eb('login_digest', 'is', null) : eb('login_digest', '=', digest)))
    .where('expires_at', '>', now)
    .returning('challenge')
    .executeTakeFirst();
  return row !== undefined;
}
