import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * Database tables. Timestamps are integers (ms since the epoch) in both dialects — bigint in
 * PostgreSQL, parsed back to numbers by the pool — so no time-zone conversions ever happen.
 */
export interface Database {
  users: UsersTable;
  webauthn_credentials: WebauthnCredentialsTable;
  webauthn_challenges: WebauthnChallengesTable;
  recovery_codes: RecoveryCodesTable;
  sessions: SessionsTable;
  remembered_devices: RememberedDevicesTable;
  login_tokens: LoginTokensTable;
  rate_limits: RateLimitsTable;
  totp_guesses: TotpGuessesTable;
  events: EventsTable;
  password_resets: PasswordResetsTable;
  user_emails: UserEmailsTable;
  mail_outbox: MailOutboxTable;
  notice_throttle: NoticeThrottleTable;
  deleted_usernames: DeletedUsernamesTable;
  key_check: KeyCheckTable;
}

export interface UsersTable {
  /** Random UUID: never guessable from the outside, safe to use as the WebAuthn user handle. */
  id: string;
  /** Canonical, lower-cased. */
  username: string;
  email: string;
  password_hash: string;
  created_at: number;
  password_changed_at: number;
  /** AEAD ciphertext of the TOTP secret (see services/secret-box.ts); null when TOTP is off. */
  totp_secret_enc: string | null;
  /** Last accepted TOTP time step (replay guard). */
  totp_last_step: number | null;
  totp_enabled_at: number | null;
  /** Bumped on every password or 2FA change: kills remembered devices and pending login tokens. */
  security_epoch: ColumnType<number, number | undefined, number>;
  /** When one code of the current recovery-code set was typed back (the burn step); null while unconfirmed (migration 006). */
  recovery_codes_confirmed_at: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface WebauthnCredentialsTable {
  id: Generated<number>;
  user_id: string;
  /** base64url */
  credential_id: string;
  /** base64url COSE public key */
  public_key: string;
  sign_count: number;
  /** JSON array of AuthenticatorTransport */
  transports: string | null;
  label: string;
  /** `label` as labels are compared (case-insensitively); unique per user (migration 003). */
  label_key: string;
  created_at: number;
  last_used_at: number | null;
}

export interface WebauthnChallengesTable {
  challenge: string;
  user_id: string;
  ceremony: 'registration' | 'authentication';
  expires_at: number;
  /** A login's challenge: the digest of the two-factor token of the login it was issued for (migration 011); null for registration. */
  login_digest: string | null;
}

export interface RecoveryCodesTable {
  id: Generated<number>;
  user_id: string;
  /** HMAC-SHA256 under a key derived from the secret key, base64url (services/recovery-codes.ts). */
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value (base64url): a database dump yields no usable session cookies. */
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  /** Last time the user proved who they are (password or full login); drives the 5-minute re-auth rule. */
  authenticated_at: number;
  /** TOTP secret being provisioned, AEAD-encrypted with the session id as associated data. */
  pending_totp_secret_enc: string | null;
  /** Freshly generated recovery codes waiting to be shown once, AEAD-encrypted like the above. */
  pending_recovery_codes_enc: string | null;
  /** One-shot message shown on the next page (JSON `{kind, text}`). */
  flash: string | null;
  /** The browser's User-Agent when the session started (shown parsed on the account page; migration 007). */
  user_agent: ColumnType<string | null, string | null | undefined, string | null>;
  /** The security-history event of the login that started it (migration 007). */
  event_id: ColumnType<number | null, number | null | undefined, number | null>;
}

/** A browser where the user chose "Remember this device": the cookie's random id, hashed (migration 007). */
export interface RememberedDevicesTable {
  /** SHA-256 (base64url) of the random device id inside the signed cookie. */
  id: string;
  user_id: string;
  /** The user's security epoch when remembered: a password or 2FA change makes the row stale. */
  security_epoch: number;
  user_agent: string | null;
  /** The security-history event recording that this device was remembered. */
  event_id: number | null;
  created_at: number;
  last_used_at: number;
  expires_at: number;
}

export interface LoginTokensTable {
  /** Random nonce carried inside the signed two-factor token T; deleted when T is used. */
  id: string;
  user_id: string;
  expires_at: number;
}

export interface RateLimitsTable {
  /** e.g. `password:account:<HMAC of the name typed>`, `second-factor:ip:203.0.113.9` */
  key: string;
  window_start: number;
  failures: number;
}

/** One wrong TOTP code (migration 004): the rolling yearly guessing budget counts these. */
export interface TotpGuessesTable {
  id: Generated<number>;
  user_id: string;
  guessed_at: number;
}

export interface EventsTable {
  id: Generated<number>;
  user_id: string | null;
  tag: string;
  ip: string | null;
  user_agent: string | null;
  /** JSON object text */
  details: string;
  created_at: number;
}

/** Every address of an account (migration 005). `users.email` always equals the primary row's `email`. */
export interface UserEmailsTable {
  id: Generated<number>;
  user_id: string;
  email: string;
  /** `emailKey(email)` (services/email-address.ts; migration 010 re-keyed older rows): unique per account, and among verified addresses. */
  email_key: string;
  /** 1 for the account's primary address (exactly one per account), else 0. */
  is_primary: number;
  verified_at: number | null;
  /** Nonce inside the newest verification link; null once verified (links are single use). */
  verify_nonce: string | null;
  verify_sent_at: number | null;
  created_at: number;
}

/** The transactional outbox (services/mail): written with the change it reports, delivered by the sender. */
export interface MailOutboxTable {
  id: Generated<number>;
  /** Random; the message's Message-ID and the associated data of `body_enc`. */
  message_id: string;
  user_id: string | null;
  /** Template kind, e.g. `verify-email`, `notice:method-added`. */
  kind: string;
  recipient: string;
  subject: string;
  /** AEAD-sealed JSON `{text, html}`; null once delivered (a database copy holds no live links). */
  body_enc: string | null;
  created_at: number;
  /** Not before this time (backoff after a failed attempt). */
  next_attempt_at: number;
  attempts: number;
  /** A sender holds the message until then (its claim); another sender may take it over afterwards. */
  lease_until: number | null;
  lease_token: string | null;
  sent_at: number | null;
  /** Given up on after the last retry. */
  failed_at: number | null;
  last_error: string | null;
}

/** When a throttled notice (e.g. second-factor failures) was last sent to an account. */
export interface NoticeThrottleTable {
  user_id: string;
  kind: string;
  last_sent_at: number;
}

/** A mailed password-reset link (services/password-resets.ts); the row makes the link single use. */
export interface PasswordResetsTable {
  /** Random nonce carried inside the signed link. */
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type RememberedDeviceRow = Selectable<RememberedDevicesTable>;
export type EventRow = Selectable<EventsTable>;

/** Names of deleted accounts, never registered again (migration 008). */
export interface DeletedUsernamesTable {
  /** Canonical, as `users.username` was. */
  username: string;
  deleted_at: number;
}

/** Migration 009: the check value of the secret key the database was written with (services/key-check.ts). */
export interface KeyCheckTable {
  /** `secret-key`: one row. */
  name: string;
  value: string;
}
