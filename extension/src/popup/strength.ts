import { type PasswordPattern, passwordPattern } from '@latchkey/shared/password-patterns';
import { useEffect, useState } from 'preact/hooks';

/** A rough passphrase-strength hint: estimated guessing entropy from length and character variety. */
export interface StrengthHint {
  level: 0 | 1 | 2 | 3;
  text: string;
}

const PATTERN_HINTS: Record<PasswordPattern, string> = {
  common: 'Too common: it is on a list of breached passwords that attackers try first. Use a few unrelated words.',
  repeated: 'A repeated pattern is guessed at once. Use a few unrelated words.',
  sequential: 'A run like “1234…” or “abcd…” is guessed at once. Use a few unrelated words.',
};

/**
 * Deliberately simple beside a full estimator such as zxcvbn: it rewards length — NIST SP 800-63B
 * 5.1.1.2 — rather than demanding symbol classes, and refuses (level 0) what 5.1.1.2 says to refuse:
 * repetitive or sequential characters and passwords from breach corpora (`common`, the list
 * {@link useCommonPasswords} loads; the same check as the server's account passwords).
 */
export function passphraseStrength(passphrase: string, common?: ReadonlySet<string>): StrengthHint {
  const chars = [...passphrase];
  if (chars.length === 0) return { level: 0, text: 'Use a few unrelated words — length beats symbols.' };
  if (chars.length < 10) return { level: 0, text: `Too short: at least 10 characters (${chars.length} so far).` };
  const pattern = passwordPattern(passphrase, common);
  if (pattern) return { level: 0, text: PATTERN_HINTS[pattern] };
  let pool = 0;
  if (/[a-z]/.test(passphrase)) pool += 26;
  if (/[A-Z]/.test(passphrase)) pool += 26;
  if (/[0-9]/.test(passphrase)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(passphrase)) pool += 33;
  const distinct = new Set(chars).size;
  const bits = Math.log2(Math.max(pool, 2)) * Math.min(chars.length, distinct * 2);
  if (bits < 50) return { level: 1, text: 'Weak: add another word or two.' };
  if (bits < 75) return { level: 2, text: 'Fair: one more word makes it strong.' };
  return { level: 3, text: 'Strong.' };
}

/**
 * zxcvbn-ts's list of about 49 000 common and breached passwords, loaded when a screen that sets a
 * passphrase opens (its own chunk: the list is ten times the rest of the popup, and the code list never
 * needs it). Null until loaded — a few milliseconds; those screens keep their button disabled until then.
 */
export function useCommonPasswords(): ReadonlySet<string> | null {
  const [common, setCommon] = useState<ReadonlySet<string> | null>(null);
  useEffect(() => {
    void loadCommonPasswords().then(setCommon);
  }, []);
  return common;
}

let commonPasswords: Promise<ReadonlySet<string>> | null = null;
/** Built once per popup: the create and change-passphrase screens share it. */
function loadCommonPasswords(): Promise<ReadonlySet<string>> {
  commonPasswords ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => new Set(dictionary['passwords-common']));
  return commonPasswords;
}
