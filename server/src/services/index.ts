import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { Database } from '../db/schema.js';
import { type Accounts, createAccounts } from './accounts.js';
import { type Admin, createAdmin } from './admin.js';
import { type Clock, systemClock } from './clock.js';
import { createEvents, type Events } from './events.js';
import { deriveServerKeys, type ServerKeys } from './keys.js';
import { createLogin, type Login } from './login.js';
import { createLoginTokens, type LoginTokens } from './login-tokens.js';
import { createPasswordChanges, type PasswordChanges } from './password-changes.js';
import { createPasswordResets, type PasswordResets } from './password-resets.js';
import { createPasswords, type Passwords } from './passwords.js';
import { createRateLimits, type RateLimits } from './rate-limits.js';
import { createRequestLimits, type RequestLimits } from './request-limits.js';
import { createTotpGuessBudget, type TotpGuessBudget } from './totp-guess-budget.js';
import { createRecoveryCodes, type RecoveryCodes } from './recovery-codes.js';
import { createRememberedDevices, type RememberedDevices } from './remembered-devices.js';
import { createSessions, type Sessions } from './sessions.js';
import { createTotp, type Totp } from './totp.js';
import { createWebauthnService, type WebauthnService } from './webauthn.js';
import { createEmails, type Emails } from './emails.js';
import { createMailOutbox, type MailOutbox } from './mail/mail-outbox.js';
import { createSecurityNotices } from './mail/security-notices.js';

/** Every service the routes, the admin CLI and tests use. Services own the rules; routes only render. */
export interface Services {
  config: Config;
  db: Kysely<Database>;
  keys: ServerKeys;
  now: Clock;
  events: Events;
  passwords: Passwords;
  rateLimits: RateLimits;
  /** Limits on requests that cost or reveal something whatever their outcome (registration, reset and verification mails). */
  requestLimits: RequestLimits;
  totpGuessBudget: TotpGuessBudget;
  accounts: Accounts;
  sessions: Sessions;
  loginTokens: LoginTokens;
  rememberedDevices: RememberedDevices;
  totp: Totp;
  recoveryCodes: RecoveryCodes;
  login: Login;
  admin: Admin;
  webauthn: WebauthnService;
  /** The account's addresses and their verification. */
  emails: Emails;
  /** The transactional outbox: bind to a transaction (`boundTo(trx).mail.enqueue(…)`) to queue a message with the change it reports. */
  mail: MailOutbox;
  passwordChanges: PasswordChanges;
  passwordResets: PasswordResets;
  /** The same services working through `trx` (an open transaction): what they write commits or rolls back with it. */
  boundTo(trx: Kysely<Database>): Services;
}

export interface ServiceOptions {
  /** Injectable clock for tests (token expiry, TOTP steps, rate-limit windows). */
  now?: Clock;
}

export function createServices(db: Kysely<Database>, config: Config, options: ServiceOptions = {}): Services {
  const now = options.now ?? systemClock;
  const keys = deriveServerKeys(config.secretKey);
  const notices = createSecurityNotices({ mailKey: keys['mail-body'], now, origin: config.origin, siteName: config.rpName, support: config.supportContact });
  const events = createEvents(db, now, notices);
  const emailsIn = (database: Kysely<Database>) =>
    createEmails({
      db: database,
      now,
      verifyKey: keys['email-verify'],
      mailKey: keys['mail-body'],
      origin: config.origin,
      siteName: config.rpName,
      followUp: notices,
      recipientCap: config.requestLimits['verification-resend'].perRecipient,
      recipientCapKey: keys['rate-limit-subject'],
    });
  const passwords = createPasswords(config.argon2);
  const rateLimits = createRateLimits(db, config.rateLimits, now, keys['rate-limit-subject']);
  const requestLimits = createRequestLimits(db, config.requestLimits, now, keys['rate-limit-subject']);
  const totpGuessBudget = createTotpGuessBudget(db, config.rateLimits.totpGuessesPerYear, now);
  const accounts = createAccounts(db, passwords, events, now, {
    indexName: config.rpName,
    onCreated: (trx, user, { emailVerified, origin }) => emailsIn(trx).addFirst(user, user.email, { verified: emailVerified, origin }),
  });
  const sessions = createSessions(db, keys['session-data'], now, events);
  const loginTokens = createLoginTokens(db, keys['login-token'], now);
  const rememberedDevices = createRememberedDevices(db, keys['remember-device'], now, events);
  const totp = createTotp(db, keys['totp-secret'], events, config.rpName, now);
  const recoveryCodes = createRecoveryCodes(db, keys['recovery-code'], events, now);
  const login = createLogin({ db, sessions, accounts, events, loginTokens, rateLimits, totp, recoveryCodes, rememberedDevices, totpGuessBudget });
  const passwordChanges = createPasswordChanges(db, passwords, now, events, config.rpName);
  return {
    boundTo: (trx) => createServices(trx, config, { now }),
    config,
    db,
    keys,
    now,
    events,
    passwords,
    rateLimits,
    requestLimits,
    totpGuessBudget,
    accounts,
    sessions,
    loginTokens,
    rememberedDevices,
    totp,
    recoveryCodes,
    login,
    admin: createAdmin(db, accounts, events, rateLimits, totpGuessBudget),
    webauthn: createWebauthnService({ db, config, events, now }),
    emails: emailsIn(db),
    mail: createMailOutbox(db, keys['mail-body'], now),
    passwordChanges,
    passwordResets: createPasswordResets({
      db,
      key: keys['password-reset'],
      passwordChanges,
      now,
      events,
      mailIn: (trx) => createMailOutbox(trx, keys['mail-body'], now),
      requestLimits,
      origin: config.origin,
      siteName: config.rpName,
      support: config.supportContact ?? null,
    }),
  };
}

export type { TwoFactorStatus } from './accounts.js';
export type { OutgoingMail, MailOutbox } from './mail/mail-outbox.js';
export { composeMail } from './mail/compose-mail.js';
export type { MailContent } from './mail/compose-mail.js';
export type { RequestOrigin, SecurityEvent } from './events.js';
export { EVENT_TAGS, NO_ORIGIN } from './events.js';
export { ServiceError } from './errors.js';
