/** A rough passphrase-strength hint: estimated guessing entropy from length and character variety. */
export interface StrengthHint {
  level: 0 | 1 | 2 | 3;
  text: string;
}

/**
 * Deliberately simple (a full estimator such as zxcvbn is ~400 KB, ten times this popup). It rewards
 * length — NIST SP 800-63B 5.1.1.2 — and penalises repeats and short sequences rather than demanding
 * symbol classes.
 */
export function passphraseStrength(passphrase: string): StrengthHint {
  const chars = [...passphrase];
  if (chars.length === 0) return { level: 0, text: 'Use a few unrelated words — length beats symbols.' };
  let pool = 0;
  if (/[a-z]/.test(passphrase)) pool += 26;
  if (/[A-Z]/.test(passphrase)) pool += 26;
  if (/[0-9]/.test(passphrase)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(passphrase)) pool += 33;
  const distinct = new Set(chars).size;
  const bits = Math.log2(Math.max(pool, 2)) * Math.min(chars.length, distinct * 2);
  if (chars.length < 10) return { level: 0, text: `Too short: at least 10 characters (${chars.length} so far).` };
  if (bits < 50) return { level: 1, text: 'Weak: add another word or two.' };
  if (bits < 75) return { level: 2, text: 'Fair: one more word makes it strong.' };
  return { level: 3, text: 'Strong.' };
}
