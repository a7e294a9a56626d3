/**
 * Security keys (WebAuthn) as a second factor: registration and authentication ceremonies, the key
 * list, removal. Verification is @simplewebauthn/server's; this module owns the rules around it —
 * challenge lifetime and single use, which user a credential belongs to, the signature counter,
 * labels — and records an event for every key added, removed, used or refused.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { decodeClientDataJSON, isoBase64URL } from '@simplewebauthn/server/helpers';
import type { Kysely } from 'kysely';
import { isolate } from '@latchkey/shared';
import { bumpSecurityEpoch } from './bump-security-epoch.js';
import type { Config } from '../config.js';
import type { Database } from '../db/index.js';
import { inTransaction } from '../db/in-transaction.js';
import { clearRecoveryCodesIfNoFactor } from './clear-recovery-codes-if-no-factor.js';
import { lockAccountRow } from './lock-account-row.js';
import { systemClock, type Clock } from './clock.js';
import { ServiceError } from './errors.js';
import { EVENT_TAGS, type Events, type RequestOrigin } from './events.js';
import { type CeremonyFor, consumeChallenge, newChallenge, storeChallenge } from './webauthn-challenges.js';
import { keyLabelKey, normalizeKeyLabel, sameKeyLabel } from './webauthn-key-label.js';

/** COSE algorithm ids accepted for new keys: EdDSA, ES256, RS256 (covers every FIDO2 key sold). */
export const SUPPORTED_ALGORITHM_IDS = [-8, -7, -257];

/** How long the browser waits for a touch; the challenge itself lives five minutes. */
export const CEREMONY_TIMEOUT_MS = 120_000;

/** A person with more keys than this is more likely an attacker filling the table. */
export const MAX_KEYS_PER_USER = 20;

const KNOWN_TRANSPORTS: ReadonlySet<string> = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

/** Why a request was refused; `message` is written for the person at the keyboard. */
export type WebauthnRefusalReason =
  | 'invalid-label'
  | 'label-taken'
  | 'too-many-keys'
  | 'no-keys'
  | 'malformed-response'
  | 'challenge-invalid'
  | 'unknown-credential'
  | 'already-registered'
  | 'verification-failed'
  | 'sign-count-regression'
  | 'concurrent-use'
  | 'no-such-key';

/** A {@link ServiceError} (so routes answer 4xx with `message`) that also says why, for events and tests. */
export class WebauthnRefusal extends ServiceError {
  override name = 'WebauthnRefusal';
  constructor(
    readonly reason: WebauthnRefusalReason,
    message: string,
    /** 409 when the request was right for a state that changed meanwhile (a key renamed or removed in another tab). */
    status = 400,
  ) {
    super(message, status);
  }
}

/**
 * A rename or removal naming a key the account no longer has by that name: its form was loaded before another tab or
 * window renamed or removed it (the list cannot tell which now). 409, nothing changed, and the page shows the keys as
 * they are — "You have no security key named …" read as if the person had mistyped.
 */
function keyChangedElsewhere(label: string): WebauthnRefusal {
  return new WebauthnRefusal(
    'no-such-key',
    `The security key “${isolate(label)}” was renamed or removed in another tab or window, so nothing was changed. The list shows your keys as they are now.`,
    409,
  );
}

/** A registered key as the account page shows it. */
export interface SecurityKey {
  label: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface WebauthnServiceOptions {
  db: Kysely<Database>;
  /** Supplies `rpId`, `rpName` and `origin` (the only origin whose responses are accepted). */
  config: Pick<Config, 'rpId' | 'rpName' | 'origin'>;
  events: Events;
  /** Tests move it to expire challenges. Default: the system clock. */
  now?: Clock;
}

export interface WebauthnUser {
  id: string;
  username: string;
}

/**
 * Refusals at login that say nothing against the key (see `refuse`): the answer was refused before any key was
 * looked at, or (`concurrent-use`) its signature verified and another answer of the same key, with a count at
 * least as high, was accepted at the same moment.
 */
const NOT_A_WRONG_KEY: ReadonlySet<WebauthnRefusalReason> = new Set(['challenge-invalid', 'malformed-response', 'concurrent-use']);

const MESSAGES = {
  challenge: 'This security-key request has expired or was already used. Press the button to try again.',
  notRegistered: 'This security key is not registered to your account. Use a key you have added, or another method.',
  verification: 'The security key’s answer could not be verified for this site. Try again, or use another method.',
  regression: 'This security key reported a use count lower than before, which can mean it was copied. It was refused: use another method and check the key.',
  concurrent: 'This security key answered another request at the same moment, and that answer was used. Press the button to try again.',
  malformed: 'The browser sent an incomplete security-key answer. Reload the page and try again.',
} as const;

export type WebauthnService = ReturnType<typeof createWebauthnService>;

export function createWebauthnService({ db, config, events, now = systemClock }: WebauthnServiceOptions) {
  async function keyRows(userId: string) {
    return db
      .selectFrom('webauthn_credentials')
      .select(['id', 'credential_id', 'transports', 'label', 'created_at', 'last_used_at'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  async function hasKeys(userId: string): Promise<boolean> {
    const row = await db.selectFrom('webauthn_credentials').select('id').where('user_id', '=', userId).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  /** Throws unless `input` is a usable, unused label for this user; returns it normalised. */
  async function checkNewLabel(userId: string, input: unknown): Promise<string> {
    const checked = normalizeKeyLabel(input);
    if (!checked.ok) throw new WebauthnRefusal('invalid-label', checked.message);
    const existing = await keyRows(userId);
    const taken = existing.find((row) => sameKeyLabel(row.label, checked.label));
    if (taken) throw labelTaken(taken.label);
    if (existing.length >= MAX_KEYS_PER_USER) {
      throw new WebauthnRefusal('too-many-keys', `An account can have at most ${MAX_KEYS_PER_USER} security keys. Remove one first.`);
    }
    return checked.label;
  }

  /** Reads the challenge out of the client data and burns it; refuses when it is not this ceremony's to burn. */
  async function takeChallenge(userId: string, ceremony: CeremonyFor, clientDataJSON: string): Promise<string> {
    let challenge: unknown;
    try {
      challenge = decodeClientDataJSON(clientDataJSON).challenge;
    } catch {
      throw new WebauthnRefusal('malformed-response', MESSAGES.malformed);
    }
    if (typeof challenge !== 'string' || challenge === '') throw new WebauthnRefusal('malformed-response', MESSAGES.malformed);
    if (!(await consumeChallenge(db, challenge, userId, ceremony, now()))) {
      throw new WebauthnRefusal('challenge-invalid', MESSAGES.challenge);
    }
    return challenge;
  }

  /**
   * Records a refused key and throws. What is recorded says only what the server knows:
   * - a logged-in owner's new key refused (`details.ceremony` 'registration'): a key not added — not a failed
   *   second factor, whose history line and mail ("someone entered the correct password, then failed the
   *   second step") would tell the owner a stranger knows their password;
   * - at login, an answer that says nothing against the key ({@link NOT_A_WRONG_KEY}: its challenge had expired,
   *   was already used or was never issued for this login, or its client data was unreadable — refused
   *   unexamined, NIST SP 800-63B 5.2.8 replay resistance — or it verified and lost a race with another answer of
   *   the same key): a login not completed (`account:login:failure`, details.reason), never mailed. It is no
   *   evidence that someone without the key tried (most often it is the owner's own late, repeated or second-tab
   *   answer), so no "someone knows your password" alarm. It is still an authentication decision, so it is
   *   recorded (ASVS 4.0.3 V7.2.1), and a failed attempt, counted against the second-factor limits by the caller
   *   (services/login.ts attemptSecondFactor, before this check: NIST SP 800-63B 5.2.2);
   * - every other refusal at login, where a key was checked and refused: a failed second factor, mailed (a
   *   counter regression gets its own tag).
   */
  async function refuse(userId: string, refusal: WebauthnRefusal, details: Record<string, unknown>, origin: RequestOrigin): Promise<never> {
    const tag =
      details.ceremony === 'registration'
        ? EVENT_TAGS.webauthnRegistrationRefused
        : NOT_A_WRONG_KEY.has(refusal.reason)
          ? EVENT_TAGS.loginFailure
          : refusal.reason === 'sign-count-regression'
            ? EVENT_TAGS.webauthnSignCountRegression
            : EVENT_TAGS.secondFactorFailure;
    await events.record({ userId, tag, origin, details: { method: 'webauthn', reason: refusal.reason, ...details } });
    throw refusal;
  }

  return {
    /** Keys registered to the user, oldest first. */
    async list(userId: string): Promise<SecurityKey[]> {
      return (await keyRows(userId)).map((row) => ({
        label: row.label,
        createdAt: row.created_at,
        lastUsedAt: row.last_used_at,
      }));
    },

    hasKeys,

    /** Validates a label without starting anything (the page checks before asking for a touch). */
    checkNewLabel,

    /**
     * Creation options for a new key. When `label` is given it is checked first, so a bad or
     * duplicate name is reported before the person touches the key.
     */
    async registrationOptions(user: WebauthnUser, label?: unknown): Promise<PublicKeyCredentialCreationOptionsJSON> {
      if (label !== undefined) await checkNewLabel(user.id, label);
      const existing = await keyRows(user.id);
      if (existing.length >= MAX_KEYS_PER_USER) {
        throw new WebauthnRefusal('too-many-keys', `An account can have at most ${MAX_KEYS_PER_USER} security keys. Remove one first.`);
      }
      const options = await generateRegistrationOptions({
        rpName: config.rpName,
        rpID: config.rpId,
        userName: user.username,
        userDisplayName: user.username,
        // users.id is a random UUID: stable, opaque, no personal data — fit for a user handle.
        userID: new TextEncoder().encode(user.id),
        challenge: newChallenge(),
        timeout: CEREMONY_TIMEOUT_MS,
        attestationType: 'none',
        excludeCredentials: existing.map((row) => ({ id: row.credential_id, transports: parseTransports(row.transports) })),
        // A second factor, not a passkey: don't fill the key's limited resident-credential slots.
        authenticatorSelection: { residentKey: 'discouraged', userVerification: 'preferred' },
        supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
      });
      await storeChallenge(db, options.challenge, user.id, { ceremony: 'registration' }, now());
      return options;
    },

    /**
     * Verifies a registration response and stores the key under `label`. Returns the stored label
     * and whether this is the user's first key. `options.alsoInTransaction` runs inside the transaction
     * that stores the key, after it (the route prepares the first recovery codes there: the key is
     * never stored without them, whatever crashes when).
     */
    async register(
      userId: string,
      response: RegistrationResponseJSON,
      labelInput: unknown,
      origin: RequestOrigin,
      options: { alsoInTransaction?: (trx: Kysely<Database>, key: { label: string }) => Promise<void> } = {},
    ): Promise<{ label: string; firstKey: boolean }> {
      const label = await checkNewLabel(userId, labelInput);
      const challenge = await takeChallenge(userId, { ceremony: 'registration' }, response.response.clientDataJSON);

      let verification;
      try {
        verification = await verifyRegistrationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: config.origin,
          expectedRPID: config.rpId,
          // 'preferred': a PIN is used when the key has one; presence is always required.
          requireUserVerification: false,
          supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
        });
      } catch (error) {
        return refuse(
          userId,
          new WebauthnRefusal('verification-failed', MESSAGES.verification),
          { ceremony: 'registration', label, error: describe(error) },
          origin,
        );
      }
      if (!verification.verified) {
        return refuse(userId, new WebauthnRefusal('verification-failed', MESSAGES.verification), { ceremony: 'registration', label }, origin);
      }
      const { credential } = verification.registrationInfo;

      const owner = await db.selectFrom('webauthn_credentials').select('user_id').where('credential_id', '=', credential.id).executeTakeFirst();
      if (owner !== undefined) {
        // Never say whose: only that this key cannot be added again.
        throw new WebauthnRefusal('already-registered', 'This security key is already registered.');
      }

      const firstKey = !(await hasKeys(userId));
      try {
        // The key and the security epoch change together: a new factor ends remembered devices and
        // pending login tokens (ASVS V3.3.3), exactly as enabling TOTP does.
        await inTransaction(db, async (trx) => {
          await trx
            .insertInto('webauthn_credentials')
            .values({
              user_id: userId,
              credential_id: credential.id,
              public_key: isoBase64URL.fromBuffer(credential.publicKey),
              sign_count: credential.counter,
              transports: JSON.stringify(knownTransports(credential.transports)),
              label,
              label_key: keyLabelKey(label),
              created_at: now(),
              last_used_at: null,
            })
            .execute();
          await bumpSecurityEpoch(trx, userId);
          await options.alsoInTransaction?.(trx, { label });
          // The event and its mail notice commit with the key.
          await events.boundTo(trx).record({ userId, tag: EVENT_TAGS.methodAdded, origin, details: { method: 'webauthn', label } });
        });
      } catch (error) {
        // A concurrent request won the race for this label or key (UNIQUE constraints).
        if (isUniqueViolation(error)) {
          throw new WebauthnRefusal('label-taken', `A security key named “${isolate(label)}” or this same key was just added. Reload the page.`);
        }
        throw error;
      }
      return { label, firstKey };
    },

    /**
     * Request options listing the user's keys, for one login: `login` is that login's two-factor token T, and
     * only an answer presented with the same T can use the challenge ({@link CeremonyFor}). Refuses when the
     * user has no keys.
     */
    async authenticationOptions(userId: string, login: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const keys = await keyRows(userId);
      if (keys.length === 0) throw new WebauthnRefusal('no-keys', 'This account has no security keys. Use another method.');
      const options = await generateAuthenticationOptions({
        rpID: config.rpId,
        allowCredentials: keys.map((row) => ({ id: row.credential_id, transports: parseTransports(row.transports) })),
        challenge: newChallenge(),
        timeout: CEREMONY_TIMEOUT_MS,
        userVerification: 'preferred',
      });
      await storeChallenge(db, options.challenge, userId, { ceremony: 'authentication', login }, now());
      return options;
    },

    /**
     * Verifies an assertion from one of the user's keys, for the login `login` (its two-factor token T: the
     * challenge must have been issued for that login). On success the key's counter and last-use time are
     * updated; on any refusal an event is recorded and a {@link WebauthnRefusal} thrown.
     */
    async authenticate(userId: string, login: string, response: AuthenticationResponseJSON, origin: RequestOrigin): Promise<{ label: string }> {
      let challenge: string;
      try {
        challenge = await takeChallenge(userId, { ceremony: 'authentication', login }, response.response.clientDataJSON);
      } catch (error) {
        if (error instanceof WebauthnRefusal) return refuse(userId, error, { ceremony: 'authentication' }, origin);
        throw error;
      }

      const stored = await db
        .selectFrom('webauthn_credentials')
        .select(['id', 'user_id', 'credential_id', 'public_key', 'sign_count', 'transports', 'label'])
        .where('credential_id', '=', response.id)
        .executeTakeFirst();
      if (stored === undefined || stored.user_id !== userId) {
        // Another user's key is reported exactly like an unknown one (no account probing).
        return refuse(
          userId,
          new WebauthnRefusal('unknown-credential', MESSAGES.notRegistered),
          { ceremony: 'authentication', credential: stored === undefined ? 'unknown' : 'other-account' },
          origin,
        );
      }

      let verification;
      try {
        verification = await verifyAuthenticationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: config.origin,
          expectedRPID: config.rpId,
          credential: {
            id: stored.credential_id,
            publicKey: isoBase64URL.toBuffer(stored.public_key),
            // The counter rule is applied below, after the signature is known to be genuine, so a
            // regression is recorded only for answers the key really made.
            counter: 0,
            transports: parseTransports(stored.transports),
          },
          requireUserVerification: false,
        });
      } catch (error) {
        return refuse(
          userId,
          new WebauthnRefusal('verification-failed', MESSAGES.verification),
          { ceremony: 'authentication', label: stored.label, error: describe(error) },
          origin,
        );
      }
      if (!verification.verified) {
        return refuse(userId, new WebauthnRefusal('verification-failed', MESSAGES.verification), { ceremony: 'authentication', label: stored.label }, origin);
      }

      const previous = Number(stored.sign_count);
      const reported = verification.authenticationInfo.newCounter;
      // WebAuthn L2 6.1.1: a counter that does not grow (when either side is non-zero) signals a cloned key.
      if ((reported > 0 || previous > 0) && reported <= previous) {
        return refuse(
          userId,
          new WebauthnRefusal('sign-count-regression', MESSAGES.regression),
          { ceremony: 'authentication', label: stored.label, storedCount: previous, reportedCount: reported },
          origin,
        );
      }

      // Compare-and-set on the counter rule itself, "the stored count is below the reported one" (a key without a
      // counter: both stay 0), checked again in the UPDATE: of two requests carrying one counter value only one
      // moves it, while two answers of one key with growing counts (two tabs of one login, touched in each) both
      // pass when they arrive in order. The move and the "Security key used" event commit together: the key's
      // last use on the account page is always in the history.
      const used = await inTransaction(db, async (trx) => {
        const updated = await trx
          .updateTable('webauthn_credentials')
          .set({ sign_count: reported, last_used_at: now() })
          .where('id', '=', stored.id)
          .where((eb) => (reported > 0 ? eb('sign_count', '<', reported) : eb('sign_count', '=', 0)))
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) return false;
        await events.boundTo(trx).record({ userId, tag: EVENT_TAGS.webauthnUsed, origin, details: { method: 'webauthn', label: stored.label } });
        return true;
      });
      if (!used) {
        // Another answer of this key was stored meanwhile. The same count twice is what a copy of the key makes (a
        // genuine key never repeats one): refused as a regression. A higher count is the same key answering two
        // requests (two tabs of one login): nothing against the key.
        const current = await db.selectFrom('webauthn_credentials').select('sign_count').where('id', '=', stored.id).executeTakeFirst();
        if (reported > 0 && current !== undefined && Number(current.sign_count) === reported) {
          return refuse(
            userId,
            new WebauthnRefusal('sign-count-regression', MESSAGES.regression),
            { ceremony: 'authentication', label: stored.label, storedCount: reported, reportedCount: reported },
            origin,
          );
        }
        return refuse(userId, new WebauthnRefusal('concurrent-use', MESSAGES.concurrent), { ceremony: 'authentication', label: stored.label }, origin);
      }
      return { label: stored.label };
    },

    /**
     * Renames the key labelled `currentLabel` to `newLabelInput` under the same rules as a new key's
     * label (normalised, unique per account case-insensitively; a change of case alone is allowed).
     */
    async rename(userId: string, currentLabel: unknown, newLabelInput: unknown, origin: RequestOrigin): Promise<{ from: string; label: string }> {
      const current = normalizeKeyLabel(currentLabel);
      if (!current.ok) throw new WebauthnRefusal('no-such-key', 'Choose which security key to rename.');
      const next = normalizeKeyLabel(newLabelInput);
      if (!next.ok) throw new WebauthnRefusal('invalid-label', next.message);
      const rows = await keyRows(userId);
      const key = rows.find((row) => row.label === current.label);
      if (!key) throw keyChangedElsewhere(current.label);
      if (key.label === next.label) return { from: key.label, label: key.label };
      const taken = rows.find((row) => row.id !== key.id && sameKeyLabel(row.label, next.label));
      if (taken) throw labelTaken(taken.label);
      try {
        // The new name and its event commit together.
        await inTransaction(db, async (trx) => {
          const updated = await trx
            .updateTable('webauthn_credentials')
            .set({ label: next.label, label_key: keyLabelKey(next.label) })
            .where('id', '=', key.id)
            .where('user_id', '=', userId)
            .where('label', '=', key.label)
            .executeTakeFirst();
          if (Number(updated.numUpdatedRows) !== 1) throw keyChangedElsewhere(current.label);
          await events
            .boundTo(trx)
            .record({ userId, tag: EVENT_TAGS.webauthnRenamed, origin, details: { method: 'webauthn', from: key.label, label: next.label } });
        });
      } catch (error) {
        // A concurrent rename or registration took the name first (the unique label index).
        if (isUniqueViolation(error))
          throw new WebauthnRefusal('label-taken', `A security key named “${isolate(next.label)}” was just added. Choose another name.`);
        throw error;
      }
      return { from: key.label, label: next.label };
    },

    /**
     * Removes the key with exactly this label (the caller has checked the password); when it was the last
     * second factor, the recovery codes go in the same transaction — only with `lastFactorConfirmed`, else
     * nothing changes and `LastFactorUnconfirmed` is thrown (clear-recovery-codes-if-no-factor.ts).
     */
    async remove(userId: string, labelInput: unknown, origin: RequestOrigin, options: { lastFactorConfirmed: boolean }): Promise<{ label: string }> {
      const checked = normalizeKeyLabel(labelInput);
      if (!checked.ok) throw new WebauthnRefusal('no-such-key', 'Choose which security key to remove.');
      const removed = await inTransaction(db, async (trx) => {
        // Deleting the key first and bumping the epoch after made this and the account's deletion wait on each other.
        await lockAccountRow(trx, userId);
        const row = await trx
          .deleteFrom('webauthn_credentials')
          .where('user_id', '=', userId)
          .where('label', '=', checked.label)
          .returning('label')
          .executeTakeFirst();
        if (row !== undefined) {
          await bumpSecurityEpoch(trx, userId);
          // After the epoch UPDATE, which holds the user's row: see clearRecoveryCodesIfNoFactor.
          const off = await clearRecoveryCodesIfNoFactor(trx, userId, options);
          await events.boundTo(trx).record({
            userId,
            tag: EVENT_TAGS.methodRemoved,
            origin,
            details: { method: 'webauthn', label: row.label, ...(off ? { twoFactorOff: true } : {}) },
          });
        }
        return row;
      });
      if (removed === undefined) throw keyChangedElsewhere(checked.label);
      return { label: removed.label };
    },
  };
}

/**
 * A name another key of the account has (compared case-insensitively): quoted as that key is named on the list, not
 * as typed — "blue KEY" refused for "Blue key" must point at the key the person can see.
 */
function labelTaken(existingLabel: string): WebauthnRefusal {
  return new WebauthnRefusal('label-taken', `You already have a security key named “${isolate(existingLabel)}”. Choose another name.`);
}

function parseTransports(stored: string | null): string[] {
  if (!stored) return [];
  try {
    return knownTransports(JSON.parse(stored));
  } catch {
    return [];
  }
}

/** Only transport names WebAuthn defines are stored and echoed back to browsers. */
function knownTransports(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((item): item is string => typeof item === 'string' && KNOWN_TRANSPORTS.has(item));
}

/** Library error text for the security history; capped, and it never contains key material. */
function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}

/** UNIQUE violations in either dialect: SQLite's constraint code, PostgreSQL's SQLSTATE 23505. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}
