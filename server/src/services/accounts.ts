import { randomUUID } from 'node:crypto';
import { bumpSecurityEpoch } from './bump-security-epoch.js';
import type { Kysely } from 'kysely';
import { isPostgres } from '../db/dialect.js';
import { inTransaction } from '../db/in-transaction.js';
import type { Database, User } from '../db/schema.js';
import type { Clock } from './clock.js';
import { ServiceError } from './errors.js';
import { EVENT_TAGS, type Events, type RecordedEvent, type RequestOrigin, NO_ORIGIN } from './events.js';
import { normalizeEmailAddress } from './email-address.js';
import { ACCOUNT_DELETED_NOTICE_KIND } from './mail/security-notices.js';
import { checkNewPassword } from './password-rule.js';
import type { Passwords } from './passwords.js';

export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-rule.js';
export { EMAIL_MAX_LENGTH, emailProblem } from './email-address.js';
export const USERNAME_MAX_LENGTH = 50;

/**
 * PyPI's username rule (Warehouse's registration form and its `users_valid_username` check constraint):
 * ASCII letters, digits, `.`, `_`, `-`; starting and ending with a letter or digit. ASCII only, because a
 * username is shown on every package its owner publishes, and a Cyrillic "а", a full-width "ｋ" or a
 * zero-width space would make a second name that reads as the first (CWE-1007, homoglyphs). Tested on the
 * name as typed (trimmed), never on its lower-case form: `toLowerCase` turns some non-ASCII letters into
 * ASCII ones (the Kelvin sign "K", U+212A, becomes "k"), and a name typed with one must be refused, not
 * quietly made into another. No `i` flag: with `u` it would fold that same Kelvin sign into "k".
 */
const USERNAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/**
 * Names a stranger could take to pass as the index itself or its staff: on a package index a release by
 * "security" or "pypi-admin" would be read as official. Warehouse keeps such names in an administrators'
 * table (`prohibited_user_names`); here they are fixed. Compared without `.`, `_` and `-` ("no-reply",
 * "ad.min" are these names too). The role mailboxes are RFC 2142's, which people read as an
 * organisation's own.
 */
const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  // The index, and the one it is modelled on (the extension serves pypi.org's pages too).
  'latchkey',
  'pypi',
  'testpypi',
  'pypa',
  'psf',
  'python',
  'warehouse',
  // Whoever runs it.
  'admin',
  'admins',
  'administrator',
  'administrators',
  'root',
  'superuser',
  'sysadmin',
  'system',
  'staff',
  'moderator',
  'moderators',
  'operator',
  'official',
  'owner',
  // RFC 2142 role mailboxes, and the addresses mail comes from.
  'abuse',
  'security',
  'support',
  'help',
  'helpdesk',
  'info',
  'noc',
  'postmaster',
  'hostmaster',
  'webmaster',
  'noreply',
  'mailerdaemon',
]);
/** The index's own names: a name with one of them as a `.`/`_`/`-`-separated part ("pypi-security", "support.latchkey") reads as official too. */
const RESERVED_NAME_PARTS: ReadonlySet<string> = new Set(['latchkey', 'pypi', 'testpypi', 'pypa']);

/**
 * Whether a (canonical) username is one of the names kept from registration; see {@link RESERVED_USERNAMES}.
 * `indexName` is this installation's own name (LATCHKEY_RP_NAME, `config.rpName`): a name equal to it,
 * compared as the list is (without separators, and without the spaces and punctuation the name may have:
 * "Example Index" keeps `example-index` and `exampleindex`), reads as the index itself too.
 */
export function isReservedUsername(canonical: string, indexName?: string): boolean {
  const parts = canonical.split(/[._-]+/);
  const joined = parts.join('');
  if (RESERVED_USERNAMES.has(joined) || parts.some((part) => RESERVED_NAME_PARTS.has(part))) return true;
  const index = indexName === undefined ? '' : squashedName(indexName);
  return index !== '' && joined === index;
}

/** A name's letters and digits only, lower case (NFKC): how the index's name is compared with a username. */
function squashedName(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

export interface TwoFactorStatus {
  hasTotp: boolean;
  hasSecurityKey: boolean;
  securityKeyCount: number;
  recoveryCodesRemaining: number;
  /** True when any second factor is enabled (login then always asks for one). */
  enabled: boolean;
}

export interface RegisterOptions {
  /**
   * Mark the address verified instead of mailing it a link: for the admin CLI (`create-user --verified`)
   * and seeding (testing kit, dev server), where whoever runs it vouches for the address. Default false.
   */
  emailVerified?: boolean;
  /**
   * Allow a reserved name ({@link isReservedUsername}): for an operator creating the index's own staff
   * account, never for self-service registration. Default false.
   */
  allowReservedName?: boolean;
  /**
   * Who creates the account, when an administrator does (the admin CLI's `create-user`: its `actor()`). The
   * account's first event is then `admin:account:create` (details `actor`, `emailVerified`) instead of
   * `account:create`, written in the same transaction as the account: the history never says the owner
   * registered an account an administrator made, and never lacks who made it.
   */
  createdBy?: string;
}

/** Runs inside the registration transaction, after the user row is written (services/emails.ts adds the first address). */
/** `origin`: the registration's request, so the first address's verification mail is counted against its network. */
export type OnAccountCreated = (trx: Kysely<Database>, user: User, options: { emailVerified: boolean; origin: RequestOrigin }) => Promise<void>;

export interface AccountsOptions {
  /**
   * The index's name (LATCHKEY_RP_NAME, `config.rpName`): kept from registration as a username, and refused
   * inside a password (NIST SP 800-63B 5.1.1.2, "the name of the service").
   */
  indexName: string;
  onCreated?: OnAccountCreated;
}

/** What a registration form sent; a field missing from the form is absent here. */
export interface RegistrationInput {
  username?: string;
  email?: string;
  password?: string;
}

export interface Accounts {
  /**
   * Create an account; throws {@link ServiceError} when input breaks a rule or the name is taken, with
   * every field at fault in `fieldErrors` (so the form shows all problems at once).
   */
  register(input: { username: string; email: string; password: string }, origin?: RequestOrigin, options?: RegisterOptions): Promise<User>;
  /** The rule each given field breaks (one message per field name), and 409 when the only problem is a taken name. */
  registrationProblems(
    input: RegistrationInput,
    options?: Pick<RegisterOptions, 'allowReservedName'>,
  ): Promise<{ status: number; fieldErrors: Record<string, string> }>;
  findByUsername(username: string): Promise<User | undefined>;
  findById(id: string): Promise<User | undefined>;
  /**
   * argon2id verify; constant work for an unknown user (`user` undefined). A right password whose stored
   * hash is outdated (made before normalisation, or at another cost) has its hash made again and stored.
   */
  verifyPassword(user: User | undefined, password: string): Promise<boolean>;
  twoFactorStatus(userId: string): Promise<TwoFactorStatus>;
  /** The user's security keys as the account page lists them, oldest first. */
  securityKeys(userId: string): Promise<{ label: string; createdAt: number; lastUsedAt: number | null }[]>;
  /** Invalidate remembered devices and pending login tokens (ASVS V3.3.3 after a factor changes). */
  bumpSecurityEpoch(userId: string): Promise<void>;
  /**
   * Delete the account and everything it owns (factors, sessions, devices, addresses, history, queued
   * mail), in one transaction. Kept: the `account:delete` event without its user (for administrators),
   * the notice it mails to the verified primary address, and the name, which is never registered again.
   */
  deleteAccount(user: User, origin: RequestOrigin): Promise<'deleted' | 'already-gone'>;
  /** When the account that had `username` was deleted (ms since the epoch), or null when none was. */
  deletedAt(username: string): Promise<number | null>;
  /** The 404 for a name no account has (administrators' tools): it says when, if its account was deleted. */
  noSuchAccount(username: string): Promise<ServiceError>;
}

/** Lower-case and trim: usernames are compared and stored canonically. */
export function canonicalUsername(username: string): string {
  return username.trim().toLowerCase();
}

export function createAccounts(db: Kysely<Database>, passwords: Passwords, events: Events, now: Clock, options: AccountsOptions): Accounts {
  const { indexName, onCreated } = options;
  const findByUsername = (username: string) => db.selectFrom('users').selectAll().where('username', '=', canonicalUsername(username)).executeTakeFirst();

  const deletedAt = async (username: string) =>
    (await db.selectFrom('deleted_usernames').select('deleted_at').where('username', '=', canonicalUsername(username)).executeTakeFirst())?.deleted_at ?? null;

  const registrationProblems: Accounts['registrationProblems'] = async (input, options = {}) => {
    const fieldErrors = registrationRuleProblems(input, options.allowReservedName ?? false, indexName);
    const username = input.username === undefined ? '' : canonicalUsername(input.username);
    if (username !== '' && !fieldErrors.username) {
      const taken = (await findByUsername(username)) ? TAKEN_MESSAGE : (await deletedAt(username)) !== null ? DELETED_NAME_MESSAGE : null;
      if (taken) return { status: Object.keys(fieldErrors).length === 0 ? 409 : 400, fieldErrors: { username: taken, ...fieldErrors } };
    }
    return { status: 400, fieldErrors };
  };

  /**
   * Store a fresh hash of a password that just verified against an outdated one. Only if the stored hash is
   * still the one verified: a password changed meanwhile is never overwritten. Not a password change (no
   * epoch bump, no event, `password_changed_at` kept). A failed write only postpones the upgrade to the
   * next login, so it must not fail this one.
   */
  const upgradeHash = async (user: User, password: string) => {
    try {
      await db
        .updateTable('users')
        .set({ password_hash: await passwords.hash(password) })
        .where('id', '=', user.id)
        .where('password_hash', '=', user.password_hash)
        .execute();
    } catch (error) {
      console.error(`[latchkey] could not upgrade a password hash: ${error instanceof Error ? error.name : 'error'}`);
    }
  };

  return {
    registrationProblems,

    async register(input, origin = NO_ORIGIN, options = {}) {
      const username = canonicalUsername(input.username);
      const problems = await registrationProblems(input, options);
      const [first] = Object.entries(problems.fieldErrors);
      if (first) throw new ServiceError(first[1], problems.status, first[0], problems.fieldErrors);
      // Stored as it will be mailed: NFC, the domain in its ASCII form (services/email-address.ts).
      const email = normalizeEmailAddress(input.email);
      if (!email.ok) throw new ServiceError(email.message, 400, 'email');
      const time = now();
      const user: User = {
        id: randomUUID(),
        username,
        email: email.address,
        password_hash: await passwords.hash(input.password),
        created_at: time,
        password_changed_at: time,
        totp_secret_enc: null,
        totp_last_step: null,
        totp_enabled_at: null,
        security_epoch: 0,
        recovery_codes_confirmed_at: null,
      };
      try {
        // The user, its first address (with the verification mail in the outbox) and the history's first
        // event commit together. The event used to be written after the commit: a failure there answered 500
        // for an account that existed (a retry said "taken"), and left it without the event its first session
        // names as where it logged in from.
        await inTransaction(db, async (trx) => {
          await trx.insertInto('users').values(user).execute();
          // The name was free and never deleted when `registrationProblems` looked, but the argon2 hash ran since:
          // an account of this name may have been registered and deleted meanwhile (no constraint links
          // `deleted_usernames` to `users`). Asked again now that the name is ours in this transaction: on
          // PostgreSQL the insert above waited on the unique index for a deletion of the name still committing,
          // and this statement (READ COMMITTED: a fresh snapshot) sees what it wrote; on SQLite transactions
          // run one at a time, so a deletion is wholly before this one (seen here) or wholly after it (its
          // account still held the name, and the insert above failed as "taken").
          const deleted = await trx.selectFrom('deleted_usernames').select('username').where('username', '=', username).executeTakeFirst();
          if (deleted) throw new ServiceError(DELETED_NAME_MESSAGE, 409, 'username');
          await onCreated?.(trx, user, { emailVerified: options.emailVerified ?? false, origin });
          const first: RecordedEvent =
            options.createdBy === undefined
              ? { userId: user.id, tag: EVENT_TAGS.accountCreated, origin }
              : {
                  userId: user.id,
                  tag: EVENT_TAGS.adminUserCreated,
                  origin,
                  details: { actor: options.createdBy, emailVerified: options.emailVerified ?? false },
                };
          await events.boundTo(trx).record(first);
        });
      } catch (error) {
        // Two sign-ups racing for one name: the UNIQUE constraint decides.
        if (isUniqueViolation(error)) throw new ServiceError(TAKEN_MESSAGE, 409, 'username');
        throw error;
      }
      return user;
    },

    findByUsername,

    deletedAt,

    async noSuchAccount(username) {
      const deleted = await deletedAt(username);
      const when = deleted === null ? '' : ` The account of that name was deleted by its owner on ${new Date(deleted).toISOString()}.`;
      return new ServiceError(`No account named "${username}".${when}`, 404);
    },

    findById: (id) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst(),

    async verifyPassword(user, password) {
      const check = await passwords.verify(user?.password_hash ?? null, password);
      if (check.ok && check.outdated && user) await upgradeHash(user, password);
      return check.ok;
    },

    async twoFactorStatus(userId) {
      // One statement (the second-step page shows it on every wrong code): counts as correlated subqueries.
      const user = await db
        .selectFrom('users')
        .select((eb) => [
          'totp_secret_enc',
          eb
            .selectFrom('webauthn_credentials')
            .select((sub) => sub.fn.countAll<number>().as('count'))
            .whereRef('webauthn_credentials.user_id', '=', 'users.id')
            .as('security_keys'),
          eb
            .selectFrom('recovery_codes')
            .select((sub) => sub.fn.countAll<number>().as('count'))
            .whereRef('recovery_codes.user_id', '=', 'users.id')
            .where('recovery_codes.used_at', 'is', null)
            .as('recovery_codes'),
        ])
        .where('id', '=', userId)
        .executeTakeFirst();
      const hasTotp = Boolean(user?.totp_secret_enc);
      const securityKeyCount = Number(user?.security_keys ?? 0);
      return {
        hasTotp,
        hasSecurityKey: securityKeyCount > 0,
        securityKeyCount,
        recoveryCodesRemaining: Number(user?.recovery_codes ?? 0),
        enabled: hasTotp || securityKeyCount > 0,
      };
    },

    async securityKeys(userId) {
      const rows = await db
        .selectFrom('webauthn_credentials')
        .select(['label', 'created_at', 'last_used_at'])
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map((row) => ({ label: row.label, createdAt: row.created_at, lastUsedAt: row.last_used_at }));
    },

    bumpSecurityEpoch: (userId) => bumpSecurityEpoch(db, userId),

    async deleteAccount(user, origin) {
      return inTransaction(db, async (trx) => {
        // A second deletion at once (a double-click, two tabs) waits here for the first (PostgreSQL: the
        // row's lock; SQLite: one writer at a time) and then finds nothing to delete, instead of failing
        // on the foreign keys of a user that is gone.
        const read = trx.selectFrom('users').select('id').where('id', '=', user.id);
        if (!(await (isPostgres(trx) ? read.forUpdate() : read).executeTakeFirst())) return 'already-gone';
        // Recorded while the account exists, so its notice finds the verified address (events' follow-up).
        const eventId = await events.boundTo(trx).record({ userId: user.id, tag: EVENT_TAGS.accountDeleted, origin, details: { username: user.username } });
        // The account's mail goes too: waiting mail (a verification link, an older notice) would point at
        // nothing, and sent mail is kept only as a record that holds the account's addresses (QA: they
        // outlived the account by the outbox's 30 days). The deletion's own notice stays, to be sent.
        await trx.deleteFrom('mail_outbox').where('user_id', '=', user.id).where('kind', '!=', ACCOUNT_DELETED_NOTICE_KIND).execute();
        // The event outlives the account without it (the foreign key would delete it), for administrators.
        await trx.updateTable('events').set({ user_id: null }).where('id', '=', eventId).execute();
        await trx.insertInto('deleted_usernames').values({ username: user.username, deleted_at: now() }).execute();
        // Every other row of the account goes with it: the foreign keys cascade (migrations 001–007).
        await trx.deleteFrom('users').where('id', '=', user.id).execute();
        return 'deleted';
      });
    },
  };
}

const TAKEN_MESSAGE = 'This username is already taken. Choose another one.';
const DELETED_NAME_MESSAGE = 'This username belonged to an account that was deleted, and cannot be used again. Choose another one.';
const RESERVED_NAME_MESSAGE = 'This username is reserved: people could take it for this index’s own staff or services. Choose another one.';

/** The first rule each given field breaks, by form field name (the form shows them all at once). */
function registrationRuleProblems(input: RegistrationInput, allowReservedName: boolean, indexName: string): Record<string, string> {
  const problems: Record<string, string> = {};
  const typed = input.username?.trim();
  const username = typed?.toLowerCase();
  if (typed !== undefined && username !== undefined) {
    if (typed.length === 0) problems.username = 'Enter a username.';
    else if (typed.length > USERNAME_MAX_LENGTH) problems.username = `The username must be at most ${USERNAME_MAX_LENGTH} characters.`;
    else if (!USERNAME_PATTERN.test(typed)) {
      problems.username =
        'The username may contain only the letters A–Z (any case), digits and ".", "_" and "-", and must start and end with a letter or digit.';
    } else if (!allowReservedName && isReservedUsername(username, indexName)) problems.username = RESERVED_NAME_MESSAGE;
  }
  const email = input.email === undefined ? undefined : normalizeEmailAddress(input.email);
  if (email && !email.ok) problems.email = email.message;
  const password = input.password;
  if (password !== undefined) {
    // The one password rule (NIST SP 800-63B 5.1.1.2): the same for every form that sets a password.
    const check = checkNewPassword(password, { username: username || undefined, email: email?.ok ? email.address : undefined, indexName });
    if (!check.ok) problems.new_password = check.message;
  }
  return problems;
}

/**
 * The address to store and mail for what was typed (services/email-address.ts: trimmed, NFC, the domain in
 * ASCII); throws a {@link ServiceError} on field `email` when the rule refuses it.
 */
export function checkEmailAddress(typed: string): string {
  const check = normalizeEmailAddress(typed);
  if (!check.ok) throw new ServiceError(check.message, 400, 'email');
  return check.address;
}

/** SQLite `SQLITE_CONSTRAINT_UNIQUE` or PostgreSQL `23505`. */
/**
 * A write that names an account which is no longer there: every foreign key points at `users.id`, so a
 * violation means the account was deleted while the request ran (a login or a security change racing the
 * owner's deletion). Not a server fault: the request is answered as such (routes/errors.ts).
 */
export function isDeletedAccountError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
