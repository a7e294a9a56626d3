#!/usr/bin/env node
/**
 * Latchkey admin CLI: `npm run admin -- <command> [options]` (uses the same environment variables as
 * the server, so it talks to the same database). Every change is recorded as an event.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ROUTES } from '@latchkey/shared';
import { type Config, ConfigError, type ConfigDirectories, defaultConfigDirectories, loadConfig } from '../config.js';
import { inTransaction } from '../db/in-transaction.js';
import { parseDatabaseUrl } from '../db/open-database.js';
import { ServiceError } from '../services/errors.js';
import type { User } from '../db/schema.js';
import type { EmailAddress } from '../services/emails.js';
import { EVENT_TAGS, NO_ORIGIN, type SecurityEvent } from '../services/events.js';
import { checkNewPassword, type PasswordContext } from '../services/password-rule.js';
import {
  accountByAddress,
  accountsWithAddress,
  type AddressHolder,
  adminEventPage,
  deletionRecords,
  RESET_REASON_MAX,
  RESET_REASON_MIN,
  resetReasonProblem,
  type SecondFactorLocksLifted,
  secretKeyProblem,
  type TwoFactorReset,
} from '../services/admin.js';
import { createServices, type Services } from '../services/index.js';
import { codeCommand } from './code.js';
import {
  busyMessage,
  changedAnything,
  DatabaseBusy,
  DatabaseProblem,
  describeDatabase,
  isDatabaseBusy,
  openServerDatabase,
  problemFrom,
} from './server-database.js';

/** Where a command writes; injectable for tests. */
export interface AdminIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** All of standard input (for `--password-stdin`); at a terminal, one line typed without echo. */
  readStdin: () => Promise<string>;
}

/**
 * The exit codes, documented in `--help` and docs/server.md, so a script can tell "fix the command" from
 * "fix the environment" from "look at the message".
 */
export const EXIT = {
  /** Done. A warning on stderr may say what did not follow (`create-user`: no verification link, that mailbox's mails capped). */
  ok: 0,
  /** The request was refused: usage, an unknown or deleted account, an unknown address, an invalid value, nothing to do. Nothing changed. */
  refused: 1,
  /** The environment is wrong: configuration, secret key, database missing, unreachable or locked by another process. Nothing changed. */
  environment: 2,
  /** Anything else (a bug, or the database failing mid-command): see the message, and `events` for what was recorded. */
  failed: 3,
} as const;

export type AdminArgs = { values: Record<string, string | boolean | undefined>; positionals: string[] };

export interface AdminCommand {
  summary: string;
  usage: string;
  /** `<command> --help` after the usage line: what it does, each option, an example. */
  help: string;
  /**
   * The command queues mail (a verification link, a security notice): sealed with this process's key and
   * linking to its LATCHKEY_ORIGIN, so both must be the server's (checked before it runs). Commands that do
   * not never read the secret key: they get a throw-away one, so no key file is read or generated for them.
   */
  queuesMail?: boolean;
  /**
   * Whether this run's mail carries links (default: {@link queuesMail}). Links are built from LATCHKEY_ORIGIN, so
   * without it set the run is refused: the default, http://localhost:PORT, mailed to a user points at their own computer.
   */
  mailsLinks?(args: AdminArgs): boolean;
  /** Option spec for node:util parseArgs. */
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  /** At most this many arguments that are not options (default 0): a stray word is refused, never ignored. */
  maxPositionals?: number;
  /**
   * The environment the configuration is read from, when the command knows better than the shell's (the
   * dev `code` command: its seed file names the database). Throws a ServiceError to refuse before any
   * configuration is read — nothing (a database, a generated key) is made in the user's directories then.
   */
  environment?(args: AdminArgs, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Refusals that need no database, made before it is opened (throw a ServiceError). */
  check?(args: AdminArgs, config: Config): void;
  run(args: AdminArgs, services: Services, io: AdminIo): Promise<number>;
}

/** How `--email` picks the account, for the commands' help. */
const BY_ADDRESS = 'the one that verified it, else the one whose primary address it is (any spelling)';

/** Every command. Add new ones here (`code` is the dev server’s, in code.ts). */
export const COMMANDS: Record<string, AdminCommand> = {
  'create-user': {
    summary: 'Create an account (password from stdin, or a generated one printed once); --verified vouches for the address.',
    usage: 'create-user --username NAME --email ADDRESS [--password-stdin] [--verified]',
    help: [
      'Creates an account the running server can log in at once. Reserved names (admin, security, …) are allowed here.',
      '',
      '  --username NAME     the login name (letters A–Z, digits, ".", "_", "-"; stored in lower case)',
      '  --email ADDRESS     the primary address; mailed a verification link unless --verified (or unless that',
      '                      mailbox was sent several lately: the account is made, and a warning on stderr says so)',
      '  --password-stdin    read the password from standard input (a pipe, or typed without echo at a terminal);',
      '                      without it a random password is generated and printed once',
      '  --verified          you checked the address yourself: mark it verified, mail no link',
      '',
      'Examples:',
      '  npm run -s admin -- create-user --username alice --email alice@example.org',
      '  pass show latchkey/bob | npm run -s admin -- create-user --username bob --email bob@example.org --password-stdin',
    ].join('\n'),
    queuesMail: true,
    // --verified mails nothing: no link, so no origin is needed for it.
    mailsLinks: ({ values }) => values.verified !== true,
    options: { username: { type: 'string' }, email: { type: 'string' }, 'password-stdin': { type: 'boolean' }, verified: { type: 'boolean' } },
    async run({ values }, services, io) {
      const username = requireString(values.username, '--username');
      const email = requireString(values.email, '--email');
      // Passwords never go on the command line (visible in `ps` and shell history).
      const generated = values['password-stdin'] ? null : generatePassword({ username, email, indexName: services.config.rpName });
      const password = generated ?? (await io.readStdin()).replace(/\r?\n$/, '');
      if (generated === null && password === '') throw new UsageError('--password-stdin read no password (standard input was empty).');
      // --verified: the administrator checked the address out of band; otherwise the server mails a link.
      const verified = values.verified === true;
      // The operator may create the names kept from self-service registration (a staff account named "security").
      // The account's first event names the operator, in the account's own transaction (never "Account created", which reads as the owner registering).
      const user = await services.accounts.register({ username, email, password }, NO_ORIGIN, {
        emailVerified: verified,
        allowReservedName: true,
        createdBy: actor(),
      });
      io.stdout(`Created account "${user.username}" (${user.email}).`);
      if (verified) io.stdout('The address is marked verified (no link is mailed).');
      else await sayWhetherLinkWasQueued(services, user, io);
      if (generated) io.stdout(`Password (shown once; give it to the user over a channel you trust): ${generated}`);
      io.stdout(`Next: the user logs in at ${loginUrl(services)}${generated ? ', changes this password' : ''} and turns on two-factor authentication.`);
      return EXIT.ok;
    },
  },
  'reset-2fa': {
    summary: 'Remove every second factor of an account (lock-out recovery after an identity check).',
    usage: 'reset-2fa (--username NAME | --email ADDRESS) --reason "how the identity was verified"',
    help: [
      'Only after you have verified the person out of band. Removes the authentication app, every security key and',
      'recovery code; ends all sessions; remembered devices and logins under way stop working; lifts the second-factor',
      'locks. Records admin:two_factor:reset with your reason and system user (the user sees it in their security',
      'history) and mails the user a notice at their verified primary address, all in one transaction. An account',
      'with no second factor left only has the second-factor locks still on it lifted (nothing recorded or mailed',
      'again), and with no lock either it is refused: nothing to reset.',
      '',
      '  --username NAME     the account',
      `  --email ADDRESS     or the account by its address: ${BY_ADDRESS}`,
      `  --reason TEXT       how the identity was verified (${RESET_REASON_MIN} to ${RESET_REASON_MAX} characters, quoted); recorded as given`,
      '',
      'Examples:',
      '  npm run -s admin -- reset-2fa --username alice --reason "video call, matched signed release key"',
      '  npm run -s admin -- reset-2fa --email alice@example.org --reason "video call, matched signed release key"',
    ].join('\n'),
    queuesMail: true,
    options: { username: { type: 'string' }, email: { type: 'string' }, reason: { type: 'string' } },
    async run({ values }, services, io) {
      const named = accountOption(values);
      const reason = requireString(values.reason, '--reason');
      const problem = resetReasonProblem(reason);
      if (problem) throw new UsageError(`--reason: ${problem}`);
      const account = await findAccount(services, named);
      // One transaction for all of it, the locks included: a run cut short (killed, the connection lost, a lock
      // another session kept past the lock timeout) leaves either nothing done or everything. The service lifts
      // the locks after its own commit when it has no transaction to join, and a run cut there (or by an older
      // version) left the factors gone and the locks on; running the command again lifts them (see below).
      let reset: TwoFactorReset;
      try {
        reset = await inTransaction(services.db, (trx) =>
          services.boundTo(trx).admin.resetTwoFactor(account.username, { reason, actor: actor(), refuseWithoutFactor: true }),
        );
      } catch (error) {
        // Rolled back whole: said as a lock met before any change (exit 2), not "may not have finished".
        if (isDatabaseBusy(error)) throw new DatabaseBusy(busyMessage(describeDatabase(parseDatabaseUrl(services.config.databaseUrl))), { cause: error });
        throw error;
      }
      const { user, removed, sessionsEnded, recorded, locksLifted } = reset;
      const locks = lockList(locksLifted);
      if (!recorded) {
        io.stdout(
          `"${user.username}" has no second factor left to remove (a reset already removed them, or two-factor authentication was off); ` +
            `lifted the second-factor locks still on the account: ${listed(locks)}.`,
        );
        io.stdout('Nothing else was changed: no second reset recorded, no notice mailed.');
        io.stdout(`Next: "${user.username}" logs in at ${loginUrl(services)} with the password alone and sets up two-factor authentication again.`);
        return EXIT.ok;
      }
      const parts = [
        removed.totp ? 'the authentication app' : null,
        removed.securityKeys > 0 ? plural(removed.securityKeys, 'security key') : null,
        removed.recoveryCodes > 0 ? plural(removed.recoveryCodes, 'unused recovery code') : null,
      ].filter((part) => part !== null);
      io.stdout(
        `Two-factor authentication reset for "${user.username}": removed ${listed(parts)}; ended ${plural(sessionsEnded, 'session')}; ` +
          'remembered devices and logins under way no longer pass the second factor.',
      );
      if (locks.length > 0) io.stdout(`Lifted the second-factor locks: ${listed(locks)}.`);
      io.stdout(
        (await services.emails.hasVerifiedPrimary(user.id))
          ? `Recorded with your reason; a notice to ${user.email} is queued (the running server sends it).`
          : `Recorded with your reason. No notice is mailed: ${user.email} is not verified. Tell the user yourself.`,
      );
      io.stdout(`Next: "${user.username}" logs in at ${loginUrl(services)} with the password alone and sets up two-factor authentication again.`);
      return EXIT.ok;
    },
  },
  events: {
    summary: "Show an account's security events, newest first.",
    usage: 'events (--username NAME | --email ADDRESS) [--tag TAG] [--limit N] [--offset N] [--json]',
    help: [
      'Read only (needs no secret key). Each line: time (UTC), tag, address, browser, details. Event details never',
      'hold secrets. For a deleted account, shows the deletion that was kept for administrators.',
      '',
      '  --username NAME     the account',
      `  --email ADDRESS     or the account by its address: ${BY_ADDRESS}`,
      '  --tag TAG           only this tag, or the tags under it (account:login takes account:login:success and :failure);',
      '                      an unknown tag is refused with the list of tags',
      '  --limit N           at most N events (1 to 10000, default 50)',
      '  --offset N          skip the N newest (the next page: --offset 50 after the first 50)',
      '  --json              a JSON array instead of lines',
      '',
      'Examples:',
      '  npm run -s admin -- events --username alice --tag admin',
      '  npm run -s admin -- events --email alice@example.org --limit 10',
    ].join('\n'),
    options: {
      username: { type: 'string' },
      email: { type: 'string' },
      tag: { type: 'string' },
      limit: { type: 'string' },
      offset: { type: 'string' },
      json: { type: 'boolean' },
    },
    async run({ values }, services, io) {
      const named = accountOption(values);
      const limit = wholeNumber(values.limit, '--limit', { min: 1, max: 10_000, fallback: 50 });
      const offset = wholeNumber(values.offset, '--offset', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
      const tag = values.tag === undefined ? undefined : requireString(values.tag, '--tag').trim().replace(/:$/, '');
      const user = 'username' in named ? await accountOrItsDeletion(services, named.username) : await findAccount(services, named);
      const { events, total } = await adminEventPage(services.db, user.id, { limit, offset, ...(tag === undefined ? {} : { tag }) });
      // A misspelt tag used to answer "No events tagged …" and exit 0, as if the account had none. A tag this
      // version does not know but the database holds (an older version's) still shows its events.
      if (tag !== undefined && total === 0 && !isKnownTag(tag)) {
        throw new UsageError(
          `--tag ${terminalSafe(tag)} is no event tag. Give one of these, or the part before a ":" (account:login, admin): ${knownTags().join(', ')}.`,
        );
      }
      if (values.json) {
        io.stdout(JSON.stringify(events, null, 2));
        return EXIT.ok;
      }
      const what = tag === undefined ? 'events' : `events tagged ${tag}`;
      const whose = `"${user.username}" (${user.email})${tag === undefined ? '' : ` tagged ${tag}`}`;
      if (events.length === 0) {
        io.stdout(total === 0 ? `No ${what} for "${user.username}".` : `No ${what} past the first ${offset} (there are ${total}).`);
        return EXIT.ok;
      }
      io.stdout(`Security events of ${whose}, newest first: ${offset + 1}–${offset + events.length} of ${total}.`);
      for (const event of events) io.stdout(eventLine(event));
      if (offset + events.length < total) io.stdout(`Older ones: add --offset ${offset + events.length}.`);
      return EXIT.ok;
    },
  },
  show: {
    summary: 'Show an account: its addresses, verified or not, and its second factors; or every account that has an address.',
    usage: 'show (--username NAME | --email ADDRESS) [--json]',
    help: [
      'Read only (needs no secret key). With --email: every account that has the address, in any spelling (case,',
      'accents, a Unicode or ASCII domain: compared as "Forgot password?" compares it), listing first the account that',
      'verified it. An address an account added but never verified proves nothing (anyone can add any address to their',
      'own account): it is shown, marked so. Lines show control and format characters as \\u{…}.',
      '',
      '  --username NAME     the account',
      '  --email ADDRESS     the accounts that have this address (someone writes in from it: which account is theirs?)',
      '  --json              a JSON array of accounts instead of lines',
      '',
      'Examples:',
      '  npm run -s admin -- show --email alice@example.org',
      '  npm run -s admin -- show --username alice --json',
    ].join('\n'),
    options: { username: { type: 'string' }, email: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values }, services, io) {
      const named = accountOption(values);
      let accounts: { user: User; matched: AddressHolder['address'] | null }[];
      if ('username' in named) {
        accounts = [{ user: await findAccount(services, named), matched: null }];
      } else {
        const holders = await accountsWithAddress(services.db, named.email);
        if (holders.length === 0) throw new ServiceError(terminalSafe(`No account has the address ${named.email.trim()} (in any spelling).`), 404);
        accounts = holders.map((holder) => ({ user: holder.user, matched: holder.address }));
      }
      const shown = await Promise.all(accounts.map(async ({ user, matched }) => accountView(services, user, matched)));
      if (values.json) {
        io.stdout(JSON.stringify(shown, null, 2));
        return EXIT.ok;
      }
      if (!('username' in named)) {
        const count = shown.length === 1 ? '1 account has' : `${shown.length} accounts have`;
        io.stdout(terminalSafe(`${count} the address ${named.email.trim()}:`));
      }
      for (const [index, view] of shown.entries()) {
        if (index > 0) io.stdout('');
        for (const line of accountLines(view)) io.stdout(terminalSafe(line));
      }
      return EXIT.ok;
    },
  },
  'verify-email': {
    summary: 'Mark an address of an account verified: you checked yourself that the person controls it (no link is mailed).',
    usage: 'verify-email --username NAME --email ADDRESS',
    help: [
      'Only after you have checked that the person controls the address (say, they answered a message you sent to it).',
      'The address must be on the account already, not verified (the one they registered with, or one they added on',
      'their account page); type it in any spelling. Records account:email:verified naming you (your system user and',
      'host; the user sees "verified by an administrator" in their security history) and, unless it is their primary',
      'address, mails the usual notice to their verified primary address, in the same transaction. Refused, changing',
      'nothing: an address not on the account (the message names the accounts that have it), one already verified,',
      'and one another account verified (an address belongs to one account once verified).',
      '',
      '  --username NAME     the account',
      '  --email ADDRESS     the address to mark verified, as it is on the account (any spelling)',
      '',
      'Example:',
      '  npm run -s admin -- verify-email --username alice --email alice@example.org',
    ].join('\n'),
    queuesMail: true,
    options: { username: { type: 'string' }, email: { type: 'string' } },
    async run({ values }, services, io) {
      const username = requireString(values.username, '--username');
      const typed = requireAddress(values.email);
      const user = await findAccount(services, { username });
      let address: EmailAddress;
      try {
        address = await services.emails.markVerified(user.id, typed, { actor: actor() });
      } catch (error) {
        if (error instanceof ServiceError) throw await whyNotVerified(services, user, typed, error);
        throw error;
      }
      io.stdout(terminalSafe(`Marked ${address.email} verified on "${user.username}", recorded in their security history with your name.`));
      io.stdout(
        terminalSafe(
          address.primary
            ? 'It is their primary address: no notice about it is mailed, and security notices and reset links go to it from now on.'
            : (await services.emails.hasVerifiedPrimary(user.id))
              ? `A notice to their primary address ${user.email} is queued (the running server sends it). Reset links can go to ${address.email} from now on.`
              : `No notice is mailed: their primary address ${user.email} is not verified. Reset links can go to ${address.email} from now on.`,
        ),
      );
      return EXIT.ok;
    },
  },
  code: codeCommand,
};

class UsageError extends Error {}

/** Every tag this version records, sorted. */
function knownTags(): string[] {
  return [...new Set<string>(Object.values(EVENT_TAGS))].sort();
}

/** A tag this version records, or the part of one before a ":" (what `--tag` filters on, services/admin.ts `adminEventPage`). */
function isKnownTag(tag: string): boolean {
  return knownTags().some((known) => known === tag || known.startsWith(`${tag}:`));
}

/**
 * After `create-user` without --verified: the link is queued, or the per-mailbox cap on verification mails
 * (services/verification-mail-cap.ts) held it back. It used to say "queued" either way. Held back, the account
 * exists all the same, so the exit code stays 0 (done: a script must not retry, the name is taken now) and the
 * news goes to stderr as a warning, with when "Send link" works and the operator's own way round it.
 */
async function sayWhetherLinkWasQueued(services: Services, user: User, io: AdminIo): Promise<void> {
  const [first] = await services.emails.list(user.id);
  if (first === undefined || first.verified || first.verifySentAt !== null) {
    io.stdout(`A verification link for ${user.email} is queued (the running server sends it).`);
    return;
  }
  const wait = await services.emails.verificationMailWait(first.email);
  const when = wait > 0 ? `in ${plural(Math.max(1, Math.ceil(wait / 60_000)), 'minute')}` : 'now';
  io.stderr(
    terminalSafe(
      `Warning: no verification link was sent to ${first.email}: that mailbox has been sent several verification e-mails recently, ` +
        'and they are held back for a while so that it cannot be flooded. The account was created; until the address is verified ' +
        `the user cannot turn on two-factor authentication. "Send link" on their account page mails one ${when}; or, once you ` +
        `have checked the address yourself: npm run -s admin -- verify-email --username ${user.username} --email ${first.email}`,
    ),
  );
}

function requireString(value: string | boolean | undefined, flag: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`${flag} is required.`);
  return value;
}

/** An address for `--email`, or a usage error (a login name typed there is not one). */
function requireAddress(value: string | boolean | undefined): string {
  const typed = requireString(value, '--email');
  if (!typed.includes('@')) throw new UsageError('--email takes an address (name@example.org); for a login name use --username.');
  return typed;
}

/** The account `--username` or `--email` names: exactly one of them. */
function accountOption(values: AdminArgs['values']): { username: string } | { email: string } {
  if (values.username !== undefined && values.email !== undefined) throw new UsageError('Give --username or --email, not both.');
  if (values.email !== undefined) return { email: requireAddress(values.email) };
  return { username: requireString(values.username, '--username (or --email)') };
}

/**
 * The account named by its username, or by an address the way "Forgot password?" finds it (services/admin.ts
 * `accountByAddress`); refused with the accounts that have the address when it names none, or several.
 */
async function findAccount(services: Services, named: { username: string } | { email: string }): Promise<User> {
  if ('username' in named) {
    const user = await services.accounts.findByUsername(named.username);
    if (!user) throw await services.accounts.noSuchAccount(named.username);
    return user;
  }
  const lookup = await accountByAddress(services.db, named.email);
  if ('found' in lookup) return lookup.found.user;
  const shown = named.email.trim();
  const names = listed(lookup.holders.map(holderName));
  const message =
    lookup.refused === 'unknown'
      ? `No account has the address ${shown} (in any spelling).`
      : lookup.refused === 'unproven'
        ? `No account verified ${shown} or has it as its primary address: ${names} only added it, which proves nothing ` +
          '(anyone can add any address). Name the account with --username once you know which is theirs.'
        : `${shown} is the primary address of ${lookup.holders.filter((holder) => holder.address.primary).length} accounts, and none verified it ` +
          `(${names}). Name the account with --username.`;
  const seeThem = lookup.refused === 'unknown' ? '' : ` See them with: show --email ${shown}`;
  throw new ServiceError(terminalSafe(`${message}${seeThem}`), 404);
}

/** The account named `username`; for a deleted one, the refusal shows the deletion kept for administrators. */
async function accountOrItsDeletion(services: Services, username: string): Promise<User> {
  const user = await services.accounts.findByUsername(username);
  if (user) return user;
  // A deleted account's history went with it, but its deletion was kept for administrators: show it.
  const error = await services.accounts.noSuchAccount(username);
  const kept = await deletionRecords(services.db, username.trim().toLowerCase());
  if (kept.length === 0) throw error;
  throw new ServiceError([error.message, 'Its deletion, as recorded:', ...kept.map(eventLine)].join('\n'), 404);
}

/** Why `verify-email` refused, in the operator's terms: the account's own row, or the accounts that have the address. */
async function whyNotVerified(services: Services, user: User, typed: string, refusal: ServiceError): Promise<ServiceError> {
  const holders = await accountsWithAddress(services.db, typed);
  const own = holders.find((holder) => holder.user.id === user.id);
  const others = holders.filter((holder) => holder.user.id !== user.id);
  const owner = others.find((holder) => holder.address.verified);
  const unchanged = 'Nothing was changed.';
  let message: string;
  if (own?.address.verified) {
    message = `${own.address.email} is already verified on "${user.username}" (since ${utc(own.address.verifiedAt!)}). ${unchanged}`;
  } else if (own && owner) {
    message = `${own.address.email} is verified by another account, "${owner.user.username}": an address belongs to one account once verified. ${unchanged}`;
  } else if (!own) {
    const where = others.length === 0 ? 'no account has it' : `it is on ${listed(others.map(holderName))}`;
    message = `"${user.username}" has no address ${typed.trim()}: ${where}. The user adds an address on their account page. ${unchanged}`;
  } else {
    message = `${refusal.message} ${unchanged}`;
  }
  return new ServiceError(terminalSafe(message), refusal.status);
}

/** `"bob" (verified)`: an account holding an address, and how. */
function holderName(holder: AddressHolder): string {
  return `"${holder.user.username}" (${addressState(holder.address)})`;
}

function addressState(address: { primary: boolean; verified: boolean; verifiedAt: number | null }): string {
  const verified = address.verified ? `verified ${utc(address.verifiedAt!)}` : 'not verified';
  return address.primary ? `primary, ${verified}` : verified;
}

/** What `show` prints of an account (also its --json; times in ms since the epoch, as `events --json` gives them). */
interface AccountView {
  username: string;
  createdAt: number;
  /** `matched`: the address `--email` found. */
  addresses: { email: string; primary: boolean; verified: boolean; verifiedAt: number | null; matched: boolean }[];
  twoFactor: { authenticationApp: boolean; securityKeys: number; unusedRecoveryCodes: number };
}

async function accountView(services: Services, user: User, matched: AddressHolder['address'] | null): Promise<AccountView> {
  const [addresses, status] = await Promise.all([services.emails.list(user.id), services.accounts.twoFactorStatus(user.id)]);
  return {
    username: user.username,
    createdAt: user.created_at,
    addresses: addresses.map(({ email, primary, verified, verifiedAt, id }) => ({ email, primary, verified, verifiedAt, matched: id === matched?.id })),
    twoFactor: { authenticationApp: status.hasTotp, securityKeys: status.securityKeyCount, unusedRecoveryCodes: status.recoveryCodesRemaining },
  };
}

function accountLines(view: AccountView): string[] {
  const width = Math.max(...view.addresses.map((address) => address.email.length), 20);
  const { authenticationApp, securityKeys, unusedRecoveryCodes } = view.twoFactor;
  const factors = [
    authenticationApp ? 'authentication app' : null,
    securityKeys > 0 ? plural(securityKeys, 'security key') : null,
    unusedRecoveryCodes > 0 ? plural(unusedRecoveryCodes, 'unused recovery code') : null,
  ].filter((part) => part !== null);
  return [
    `Account "${view.username}", created ${utc(view.createdAt)}`,
    ...view.addresses.map((address) => {
      const state = addressState(address);
      const note = !address.matched
        ? ''
        : address.verified || address.primary
          ? '   <- this address'
          : '   <- this address (added, never verified: proves nothing)';
      return `  ${address.email.padEnd(width)}  ${state}${note}`;
    }),
    `  Two-factor authentication: ${authenticationApp || securityKeys > 0 ? `on (${listed(factors)})` : 'off'}`,
  ];
}

/** `2026-01-01 12:00:00 UTC`. */
function utc(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

function wholeNumber(value: string | boolean | undefined, flag: string, { min, max, fallback }: { min: number; max: number; fallback: number }): number {
  if (value === undefined) return fallback;
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`${flag} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}.`);
  }
  return number;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The second-factor locks a reset lifted, in words (empty: none was on). */
function lockList(locks: SecondFactorLocksLifted): string[] {
  const guesses = plural(locks.totpGuesses, 'wrong authentication-app code');
  return [
    locks.secondFactorPaused ? 'the pause on second-factor attempts (too many failures lately)' : null,
    locks.totpGuesses === 0
      ? null
      : locks.totpBudgetSpent
        ? `the year's authentication-app guessing budget, spent (${guesses} counted)`
        : `${guesses} counted against the year's authentication-app guessing budget`,
  ].filter((part) => part !== null);
}

function listed(parts: string[]): string {
  return parts.length <= 1 ? (parts[0] ?? 'nothing') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

function loginUrl(services: Services): string {
  return new URL(ROUTES.login, services.config.origin).href;
}

/**
 * Text from the database shown on the operator's terminal: a browser's User-Agent is chosen by whoever
 * sent the request, and JSON.stringify leaves C1 controls (U+009B is a one-character CSI) and bidi controls
 * as they are. Each control and format character (bidi overrides, zero-width ones) is shown as \u{…}, so
 * the output can neither drive the terminal nor reorder the line (CWE-150).
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (char) => `\\u{${char.codePointAt(0)!.toString(16)}}`);
}

function eventLine(event: SecurityEvent): string {
  const time = utc(event.createdAt);
  const browser = event.userAgent === null ? '-' : event.userAgent.length > 60 ? `${event.userAgent.slice(0, 59)}…` : event.userAgent;
  const details = Object.keys(event.details).length ? `  ${JSON.stringify(event.details)}` : '';
  return terminalSafe(`${time}  ${event.tag.padEnd(40)} ${(event.ip ?? '-').padEnd(15)} ${browser}${details}`);
}

function actor(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()} (admin CLI)`;
  } catch {
    return 'admin CLI';
  }
}

export function helpText(): string {
  const lines = ['Usage: npm run -s admin -- <command> [options]      (-s: without npm’s own lines)', '', 'Commands:'];
  for (const [name, command] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${command.summary}`, `               ${command.usage}`);
  lines.push(
    '',
    'Details and examples: npm run -s admin -- <command> --help',
    '',
    'Run it with the server’s environment: DATABASE_URL (default: SQLite in this system user’s data directory),',
    'LATCHKEY_SECRET_KEY and LATCHKEY_ORIGIN (create-user, reset-2fa and verify-email queue mail the server sends).',
    'It only opens a database the server has set up; it never creates or migrates one.',
    '',
    'Exit codes: 0 done; 1 refused (usage, unknown account or address, invalid value), nothing changed; 2 wrong environment',
    '(configuration, secret key, database missing or unreachable, or locked by another process: try again), nothing changed;',
    '3 unexpected failure.',
  );
  return lines.join('\n');
}

function commandHelp(command: AdminCommand): string {
  return `Usage: npm run -s admin -- ${command.usage}\n\n${command.summary}\n\n${command.help}`;
}

/** After a database that stayed locked: nothing was changed, so running the command again is safe. */
const TRY_AGAIN = ' Try again in a moment.';

/** The file name the server keeps a generated key under (config.ts, `resolveSecretKey`). */
const SECRET_KEY_FILE = 'latchkey-secret.key';

/**
 * Where `loadConfig` would read a generated secret key for `env`: this system user's config directory, or
 * an older installation's file beside the SQLite database (or in the data directory), which it moves.
 */
function secretKeyFiles(env: NodeJS.ProcessEnv, directories: ConfigDirectories): string[] {
  const databaseUrl = env.DATABASE_URL?.trim() || `sqlite:${path.join(directories.data, 'latchkey.db')}`;
  const sqlitePath = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : null;
  const databaseDirectory = sqlitePath && sqlitePath !== ':memory:' ? path.dirname(path.resolve(sqlitePath)) : null;
  return [path.join(directories.config, SECRET_KEY_FILE), path.join(databaseDirectory ?? directories.data, SECRET_KEY_FILE)];
}

/** Option names close to a mistyped one (`--usename`), for the refusal. */
function closestOption(typed: string, command: AdminCommand): string | null {
  const name = typed.replace(/^-+/, '').split('=')[0]!;
  let best: { option: string; distance: number } | null = null;
  for (const option of Object.keys(command.options ?? {})) {
    const distance = editDistance(name, option);
    if (distance <= Math.max(2, Math.floor(option.length / 3)) && (best === null || distance < best.distance)) best = { option, distance };
  }
  return best ? `--${best.option}` : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * `--offset -1` as `--offset=-1`: parseArgs reads a value starting with "-" as an option and answered with its own
 * text ("argument is ambiguous… use '--offset=-XYZ'"); joined, the value reaches the option's own check, which says
 * what it takes ("--offset must be a whole number from 0 up").
 */
function withNegativeNumbers(command: AdminCommand, args: string[]): string[] {
  const joined: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    const next = args[index + 1];
    const option = arg.startsWith('--') ? command.options?.[arg.slice(2)] : undefined;
    if (option?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      index++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** parseArgs, refusing what it would let pass silently: a stray word (an unquoted `--reason video call`), an option given twice. */
function parseCommandArgs(command: AdminCommand, rest: string[]): AdminArgs {
  let parsed: ReturnType<typeof parseArgs> & { tokens?: Array<{ kind: string; name?: string; rawName?: string }> };
  try {
    parsed = parseArgs({ args: withNegativeNumbers(command, rest), options: command.options, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    const message = (error as Error).message;
    // node's own wording ("argument is ambiguous. Did you forget…"), said for the operator.
    const missing = /^Option '(?:-\w, )?--([\w-]+)(?: <value>)?' argument (missing|is ambiguous)/.exec(message);
    if (missing) {
      const flag = `--${missing[1]}`;
      const next = rest[rest.indexOf(flag) + 1];
      throw new UsageError(
        missing[2] === 'missing' || next === undefined
          ? `${flag} needs a value.`
          : `${flag} needs a value, and ${JSON.stringify(next)} is read as an option. A value starting with "-" is written ${flag}=${next}.`,
      );
    }
    const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
    if (unknown === undefined) throw new UsageError(message);
    const suggestion = closestOption(unknown, command);
    throw new UsageError(`Unknown option ${unknown}.${suggestion ? ` Did you mean ${suggestion}?` : ''}`);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option' || token.name === undefined) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once; give it once.`);
    seen.add(token.name);
  }
  const max = command.maxPositionals ?? 0;
  if (parsed.positionals.length > max) {
    const stray = parsed.positionals.slice(max);
    const quoting =
      command.options?.reason === undefined
        ? 'Each option takes one value; put a value with spaces in quotes.'
        : 'A value with spaces goes in quotes: --reason "video call, matched signed release key".';
    throw new UsageError(`Unexpected ${stray.length === 1 ? 'argument' : 'arguments'} ${stray.map((word) => JSON.stringify(word)).join(' ')}. ${quoting}`);
  }
  return { values: parsed.values as AdminArgs['values'], positionals: parsed.positionals };
}

/**
 * Run one command; returns the process exit code ({@link EXIT}). `config` defaults to the environment's,
 * read with `directories` (the user's data and config directories; tests pass temporary ones).
 */
export async function runAdmin(argv: string[], io: AdminIo, config?: Config, directories: ConfigDirectories = defaultConfigDirectories()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr(helpText());
    return EXIT.refused;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const asked = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
    io.stdout(asked ? commandHelp(asked) : helpText());
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`Unknown command "${name}".\n\n${helpText()}`);
    return EXIT.refused;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(command));
    return EXIT.ok;
  }
  let args: AdminArgs;
  try {
    args = parseCommandArgs(command, rest);
  } catch (error) {
    io.stderr(`${(error as Error).message}\nUsage: npm run -s admin -- ${command.usage}   (more: ${name} --help)`);
    return EXIT.refused;
  }
  let resolved: Config;
  try {
    resolved = config ?? (await configFromEnvironment(command, args, directories));
    if (!config && resolved.secretKeyWarning) io.stderr(`Warning: ${resolved.secretKeyWarning}`);
    if (!config) for (const warning of resolved.warnings ?? []) io.stderr(`Warning: ${warning}`);
    command.check?.(args, resolved);
    // Links in mail are built from LATCHKEY_ORIGIN; this shell's default (http://localhost:PORT) is not the server's.
    // It used to be a warning after the mail was queued: the user then got a link to their own computer.
    if (!config && (command.mailsLinks?.(args) ?? command.queuesMail === true) && !process.env.LATCHKEY_ORIGIN?.trim()) {
      throw new ConfigError(
        `LATCHKEY_ORIGIN is not set, and the mail this command queues carries links built from it (they would point at ${resolved.origin}). ` +
          'Run it with the server’s environment, e.g. LATCHKEY_ORIGIN=https://index.example.org. Nothing was changed.',
      );
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`Configuration error: ${error.message}`);
      return EXIT.environment;
    }
    if (error instanceof ServiceError) {
      io.stderr(error.message);
      return EXIT.refused;
    }
    throw error;
  }
  let where: string;
  try {
    where = describeDatabase(parseDatabaseUrl(resolved.databaseUrl));
  } catch (error) {
    io.stderr(`Configuration error: ${(error as Error).message}`);
    return EXIT.environment;
  }
  let db: Awaited<ReturnType<typeof openServerDatabase>>;
  try {
    db = await openServerDatabase(resolved.databaseUrl);
  } catch (error) {
    if (error instanceof DatabaseProblem) {
      io.stderr(`Database error: ${error.message} Nothing was changed.${error instanceof DatabaseBusy ? TRY_AGAIN : ''}`);
      return EXIT.environment;
    }
    throw error;
  }
  try {
    const services = createServices(db, resolved);
    if (command.queuesMail) {
      const problem = await secretKeyProblem(db, services.keys, { keyJustGenerated: resolved.secretKeyGenerated === true });
      if (problem) {
        io.stderr(`Configuration error: ${problem} Nothing was changed.`);
        return EXIT.environment;
      }
    }
    return await command.run(args, services, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\nUsage: npm run -s admin -- ${command.usage}   (more: ${name} --help)`);
      return EXIT.refused;
    }
    if (error instanceof ServiceError) {
      io.stderr(error.message);
      return EXIT.refused;
    }
    // A command that ran its writes in one transaction and met a lock: rolled back, so nothing was changed.
    if (error instanceof DatabaseBusy) {
      io.stderr(`Database error: ${error.message} Nothing was changed.${TRY_AGAIN}`);
      return EXIT.environment;
    }
    // SQLite locked by another process past the busy timeout (it used to end as "admin: database is locked",
    // exit 3): when this run had changed nothing yet, it is the environment's (exit 2), and running it again is safe.
    if (isDatabaseBusy(error) && !(await changedAnything(db))) {
      io.stderr(`Database error: ${busyMessage(where)} Nothing was changed.${TRY_AGAIN}`);
      return EXIT.environment;
    }
    // The database going away mid-command is said as such (not a bare "Connection terminated"); part of the
    // command may have been done (a command that commits more than once, or a connection lost during its
    // COMMIT), so it is a failure, not exit 2.
    const problem = isDatabaseBusy(error) ? new DatabaseProblem(busyMessage(where)) : problemFrom(error, where);
    if (problem) {
      io.stderr(`Database error: ${problem.message} The command may not have finished: \`events --username …\` shows what was recorded.`);
      return EXIT.failed;
    }
    throw error;
  } finally {
    await db.destroy();
  }
}

/**
 * The configuration as the server would read it, except for the secret key: a command that queues no mail
 * gets a throw-away one (it opens nothing sealed), and one that does must find the server's — it is never
 * generated here. Generating it used to write a new key file into the operator's config directory: `events`
 * left one behind, and the next `reset-2fa` was refused with "LATCHKEY_SECRET_KEY is not the key…" though
 * the operator had set no such variable (QA h16).
 */
async function configFromEnvironment(command: AdminCommand, args: AdminArgs, directories: ConfigDirectories): Promise<Config> {
  let env = command.environment ? command.environment(args, process.env) : process.env;
  if (!env.LATCHKEY_SECRET_KEY?.trim()) {
    if (!command.queuesMail) {
      env = { ...env, LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64url') };
    } else if (!secretKeyFiles(env, directories).some((file) => existsSync(file))) {
      throw new ConfigError(
        `LATCHKEY_SECRET_KEY is not set, and this system user (${systemUser()}) has no key file (${secretKeyFiles(env, directories)[0]}). ` +
          'Run the command with the server’s environment (its LATCHKEY_SECRET_KEY), or as the system user the server runs as. Nothing was changed.',
      );
    }
  }
  return loadConfig(env, directories);
}

function systemUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'this user';
  }
}

/**
 * Standard input for `--password-stdin`: all of it from a pipe or file; at a terminal, one line read without
 * echo (it used to wait silently, showing the password as it was typed).
 */
async function readStandardInput(): Promise<string> {
  if (process.stdin.isTTY) return readHiddenLine(process.stdin, (text) => process.stderr.write(text));
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The parts of a terminal stream {@link readHiddenLine} uses (a fake one in tests). */
export interface HiddenInput {
  setRawMode(raw: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  resume(): unknown;
  pause(): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  off(event: 'data', listener: (chunk: string) => void): unknown;
}

/** One line typed at a terminal in raw mode, not echoed; Backspace edits, Enter ends, Ctrl-C cancels. */
export function readHiddenLine(input: HiddenInput, write: (text: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    let line = '';
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      write('\n');
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          finish();
          resolve(line);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new UsageError('Cancelled; nothing was changed.'));
          return;
        }
        if (char === '\u007f' || char === '\b') line = Array.from(line).slice(0, -1).join('');
        else line += char;
      }
    };
    write('Password (not shown as you type; Enter to finish): ');
    input.setEncoding('utf8');
    input.setRawMode(true);
    input.on('data', onData);
    input.resume();
  });
}

const processIo: AdminIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  readStdin: readStandardInput,
};

/**
 * {@link runAdmin} as the process runs it: an unexpected error is one line on stderr and exit code 3, never a
 * stack trace (it used to be exit code 1, the code of a refused request).
 */
export async function adminMain(argv: string[], io: AdminIo, config?: Config): Promise<number> {
  try {
    return await runAdmin(argv, io, config);
  } catch (error) {
    io.stderr(`admin: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failed;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  adminMain(process.argv.slice(2), processIo).then((code) => process.exit(code));
}

/**
 * A random password for a new account (120 bits) that the password rule accepts: a random one can, rarely,
 * hold the username or the address's name (about 1 in 2 000 for a 3-letter name), which the rule refuses.
 */
export function generatePassword(context: PasswordContext, random: () => string = () => randomBytes(15).toString('base64url')): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const candidate = random();
    if (checkNewPassword(candidate, context).ok) return candidate;
  }
  throw new Error('No random password passed the password rule in 100 tries.');
}
