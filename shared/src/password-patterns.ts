/**
 * Patterns NIST SP 800-63B 5.1.1.2 says a new secret must not match — "repetitive or sequential characters"
 * and "passwords obtained from previous breach corpora" — checked the same way by the server (account
 * passwords) and the extension (the vault's passphrase). Dependency-free: the caller brings the list of
 * common passwords (zxcvbn-ts's `passwords-common`), which the popup loads only on the screens that set a
 * passphrase.
 */
export type PasswordPattern = 'common' | 'repeated' | 'sequential';

/** Digits and symbols added at either end of a common word still make a common password. */
const MAX_DECORATION = 6;

/**
 * Which refused pattern `password` matches, or null. `common` (lower-case entries) is compared
 * case-insensitively, and also with digits and symbols stripped from either end ("Password1234!" is
 * "password"), because that is the first thing guessing tools try.
 */
export function passwordPattern(password: string, common?: ReadonlySet<string>): PasswordPattern | null {
  const lower = password.toLowerCase();
  if (common) {
    const core = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
    if (common.has(lower) || (core.length >= 4 && lower.length - core.length <= MAX_DECORATION && common.has(core))) return 'common';
  }
  const codePoints = [...lower];
  if (isRepeated(codePoints)) return 'repeated';
  if (isSequential(codePoints)) return 'sequential';
  return null;
}

/** One short block repeated ("aaaa…", "abab…", "abcabc…"). */
function isRepeated(chars: string[]): boolean {
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
