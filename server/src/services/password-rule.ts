import { passwordPattern } from '@latchkey/shared/password-patterns';
import { dictionary } from '@zxcvbn-ts/language-common';
import { normalizePassword } from './passwords.js';

/**
 * The one password rule: every form that sets a password (registration; change and reset) calls
 * {@link checkNewPassword}, and every form that checks one (login, re-authentication) accepts at most
 * {@link PASSWORD_MAX_LENGTH} characters, so no password can be set that could not be typed at login.
 *
 * - At least 12 characters (ASVS V2.1.1; NIST SP 800-63B 5.1.1.2 asks 8 where another factor exists,
 *   15 where the password is the only one; 12 is this project's rule and is not lowered).
 * - At most 1024 (NIST SP 800-63B 5.1.1.2 asks at least 64 be allowed; the cap keeps one request's
 *   argon2 input bounded). Length counts Unicode code points for the minimum (5.1.1.2: "each Unicode
 *   code point counted as a single character") and UTF-16 units for the maximum (what forms measure).
 * - Not a common or breached password (NIST SP 800-63B 5.1.1.2, ASVS V2.1.7): the list is
 *   zxcvbn-ts's `passwords-common` (about 49 000 of the most common passwords from breach corpora),
 *   bundled in the npm package, so the check never needs the network. Compared case-insensitively,
 *   and also with digits and symbols stripped from either end ("Password1234!" is "password"), because
 *   that is the first thing guessing tools try.
 * - Not repetitive or sequential ("aaaaaaaaaaaa", "abcabcabcabc", "123456789012") and not built on
 *   the context: the username, the account's e-mail address (its name before the @, which is often the
 *   person's name and is the other identifier a reset request takes), or the service's name — this
 *   software's, `latchkey`, and the index's own as configured (LATCHKEY_RP_NAME) — (5.1.1.2's
 *   "context-specific words, such as the name of the service, the username, and derivatives thereof";
 *   Warehouse gives its strength check the username and the address for the same reason).
 * No composition rules (5.1.1.2 says not to impose them).
 */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

/** This software's name: a context word 5.1.1.2 says to refuse, whatever the index is called. */
const SOFTWARE_NAME = 'latchkey';
/** Runs of anything but letters and digits: how the words of a name (and of a password, to compare) are separated. */
const NOT_LETTER_OR_DIGIT = /[^\p{L}\p{N}]+/gu;

export type PasswordCheck = { ok: true } | { ok: false; message: string };

export interface PasswordContext {
  /** The account's username (canonical or not), when known: a password containing it is refused. */
  username?: string;
  /**
   * The account's e-mail address (at registration the one typed, afterwards the primary one), when known:
   * a password containing its local part, or that part before a "+tag" (RFC 5233 subaddress), is refused.
   */
  email?: string;
  /**
   * The index's name (LATCHKEY_RP_NAME, `config.rpName`): a password containing it — its words in order with
   * any separators, or run together ("Example Index", "example-index", "exampleindex") — is refused.
   */
  indexName?: string;
}

/** The index's name as the password is searched for it: its words separated by one space, and run together; from 3 characters on. */
function indexNameForms(indexName: string | undefined): { spaced: string; squashed: string } | null {
  if (!indexName) return null;
  const words = indexName.normalize('NFKC').toLowerCase().split(NOT_LETTER_OR_DIGIT).filter(Boolean);
  const squashed = words.join('');
  // As for usernames: a very short name ("PI") occurs in many good passwords.
  return squashed.length >= 3 ? { spaced: words.join(' '), squashed } : null;
}

/** The parts of `email` a password must not contain: its local part and, for "name+tag@…", the name; at least 3 characters, as for usernames. */
function emailWords(email: string | undefined): string[] {
  if (!email) return [];
  const address = email.trim().normalize('NFKC').toLowerCase();
  const at = address.lastIndexOf('@');
  if (at <= 0) return [];
  const local = address.slice(0, at);
  const beforeTag = local.split('+')[0] ?? '';
  return [local, beforeTag].filter((word) => word.length >= 3);
}

let common: Set<string> | null = null;
/** Decompressed on first use (about 50 ms), then kept: most processes never set a password. */
function commonPasswords(): Set<string> {
  common ??= new Set(dictionary['passwords-common']);
  return common;
}

/** Check a new password against the rule; the message says why it was refused and what to do. */
export function checkNewPassword(typed: string, context: PasswordContext = {}): PasswordCheck {
  // The rule judges what is hashed (passwords.ts normalises with NFKC): a full-width "ｐａｓｓｗｏｒｄ…" is
  // stored as "password…", so it is that password, and is refused as one.
  const password = normalizePassword(typed);
  const codePoints = [...password];
  if (codePoints.length < PASSWORD_MIN_LENGTH) {
    return refuse(`The password must be at least ${PASSWORD_MIN_LENGTH} characters long.`);
  }
  if (typed.length > PASSWORD_MAX_LENGTH) {
    return refuse(`The password must be at most ${PASSWORD_MAX_LENGTH} characters long.`);
  }
  const lower = password.toLowerCase();
  const username = context.username?.trim().toLowerCase() ?? '';
  // Very short usernames ("a") occur in many good passwords; from 3 characters on it is the name.
  if (username.length >= 3 && lower.includes(username)) return refuse('The password must not contain your username.');
  if (emailWords(context.email).some((word) => lower.includes(word))) {
    return refuse('The password must not contain your e-mail address or the name before its @.');
  }
  if (lower.includes(SOFTWARE_NAME)) return refuse('The password must not contain the name of this service.');
  const index = indexNameForms(context.indexName);
  if (index && (lower.includes(index.squashed) || lower.replace(NOT_LETTER_OR_DIGIT, ' ').includes(index.spaced))) {
    return refuse(`The password must not contain the name of this service (“${context.indexName?.trim()}”).`);
  }
  const pattern = passwordPattern(password, commonPasswords());
  if (pattern === 'common') {
    return refuse(
      'This password is on a list of commonly used or breached passwords, so attackers try it early. Choose a different one: ' +
        'several unrelated words, or a password manager’s generated password, work well.',
    );
  }
  if (pattern) {
    return refuse('The password is a repeated or sequential pattern (like "aaaa…" or "1234…"), which is guessed quickly. Choose a different one.');
  }
  return { ok: true };
}

function refuse(message: string): PasswordCheck {
  return { ok: false, message };
}
