import { dictionary } from '@zxcvbn-ts/language-common';

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
 *   the context: the username or the service's name (5.1.1.2's other examples).
 * No composition rules (5.1.1.2 says not to impose them).
 */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

/** The service's own name: a context word 5.1.1.2 says to refuse. */
const SERVICE_WORDS = ['latchkey'];
/** Digits and symbols added at either end of a common word still make a common password. */
const MAX_DECORATION = 6;

export type PasswordCheck = { ok: true } | { ok: false; message: string };

export interface PasswordContext {
  /** The account's username (canonical or not), when known: a password containing it is refused. */
  username?: string;
}

let commonPasswords: Set<string> | null = null;
/** Decompressed on first use (about 50 ms), then kept: most processes never set a password. */
function isCommon(candidate: string): boolean {
  commonPasswords ??= new Set(dictionary['passwords-common']);
  return commonPasswords.has(candidate);
}

/** Check a new password against the rule; the message says why it was refused and what to do. */
export function checkNewPassword(password: string, context: PasswordContext = {}): PasswordCheck {
  const codePoints = [...password];
  if (codePoints.length < PASSWORD_MIN_LENGTH) {
    return refuse(`The password must be at least ${PASSWORD_MIN_LENGTH} characters long.`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    return refuse(`The password must be at most ${PASSWORD_MAX_LENGTH} characters long.`);
  }
  const lower = password.toLowerCase();
  const username = context.username?.trim().toLowerCase() ?? '';
  // Very short usernames ("a") occur in many good passwords; from 3 characters on it is the name.
  if (username.length >= 3 && lower.includes(username)) return refuse('The password must not contain your username.');
  if (SERVICE_WORDS.some((word) => lower.includes(word))) return refuse('The password must not contain the name of this service.');
  const core = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  if (isCommon(lower) || (core.length >= 4 && lower.length - core.length <= MAX_DECORATION && isCommon(core))) {
    return refuse(
      'This password is on a list of commonly used or breached passwords, so attackers try it early. Choose a different one: ' +
        'several unrelated words, or a password manager’s generated password, work well.',
    );
  }
  if (isRepetitive(codePoints.map((c) => c.toLowerCase())) || isSequential(codePoints)) {
    return refuse('The password is a repeated or sequential pattern (like "aaaa…" or "1234…"), which is guessed quickly. Choose a different one.');
  }
  return { ok: true };
}

function refuse(message: string): PasswordCheck {
  return { ok: false, message };
}

/** One short block repeated ("aaaa…", "abab…", "abcabc…"). */
function isRepetitive(chars: string[]): boolean {
  for (let unit = 1; unit <= chars.length / 2; unit++) {
    if (chars.length % unit !== 0) continue;
    if (chars.every((c, i) => c === chars[i % unit])) return true;
  }
  return false;
}

/** Each character one after (or before) the previous one ("abcdef…", "9876…"); digits wrap 9→0. */
function isSequential(chars: string[]): boolean {
  const steps = new Set<number>();
  for (let i = 1; i < chars.length; i++) {
    const a = chars[i - 1]!;
    const b = chars[i]!;
    let step = b.codePointAt(0)! - a.codePointAt(0)!;
    if (a === '9' && b === '0') step = 1;
    if (a === '0' && b === '9') step = -1;
    steps.add(step);
  }
  return steps.size === 1 && (steps.has(1) || steps.has(-1));
}
