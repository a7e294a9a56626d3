/**
 * Security-key labels: what a person types to tell their keys apart ("blue USB key"). Validated
 * before any ceremony starts, so nobody touches a key only to be told the name was wrong.
 */

/** Longest label, in characters (code points). */
export const MAX_KEY_LABEL_LENGTH = 64;

export type KeyLabelResult = { ok: true; label: string } | { ok: false; message: string };

/**
 * Trim, NFC-normalise and check a label: required, at most {@link MAX_KEY_LABEL_LENGTH} characters,
 * no control characters (they would render invisibly in the key list and security history).
 */
export function normalizeKeyLabel(input: unknown): KeyLabelResult {
  if (typeof input !== 'string') return { ok: false, message: 'Give the security key a name.' };
  const label = input.normalize('NFC').trim();
  if (label === '') return { ok: false, message: 'Give the security key a name.' };
  if ([...label].length > MAX_KEY_LABEL_LENGTH) {
    return { ok: false, message: `The name must be at most ${MAX_KEY_LABEL_LENGTH} characters.` };
  }
  // Cc (controls) and Cf (format: bidi overrides, zero-width) could make two labels look alike.
  if (/[\p{Cc}\p{Cf}]/u.test(label)) {
    return { ok: false, message: 'The name cannot contain control or invisible formatting characters.' };
  }
  return { ok: true, label };
}

/** A label as labels are compared: stored beside it, unique per account in the database. */
export function keyLabelKey(label: string): string {
  return label.toLocaleLowerCase('en');
}

/** Labels compare case-insensitively, so "Blue key" and "blue key" cannot both exist. */
export function sameKeyLabel(a: string, b: string): boolean {
  return keyLabelKey(a) === keyLabelKey(b);
}
