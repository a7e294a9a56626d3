/**
 * Recovery-code format (DESIGN.md section 3): 64 random bits shown as 16 lowercase hex characters,
 * so a recovery code can never be mistaken for a 6-digit TOTP code. Users may type it with spaces,
 * dashes or capitals; {@link normalizeRecoveryCode} folds those away before comparison.
 */

/** Number of codes in one generation. */
export const RECOVERY_CODE_COUNT = 8;
/** Hex characters in one code (64 bits). */
export const RECOVERY_CODE_LENGTH = 16;

const RECOVERY_CODE_PATTERN = /^[0-9a-f]{16}$/;
/**
 * What copying a code out of a document, a PDF or a password manager can put between its characters:
 * white space, any dash (en dash, em dash, non-breaking hyphen…) and the minus sign, and invisible format
 * characters (zero-width space, soft hyphen, byte-order mark).
 */
const IGNORED_SEPARATORS = /[\s\p{Pd}\u2212\p{Cf}]+/gu;

/**
 * Generate one recovery code from the platform CSPRNG (Web Crypto, in Node and browsers alike).
 */
export function generateRecoveryCode(): string {
  const bytes = new Uint8Array(RECOVERY_CODE_LENGTH / 2);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Generate a full set of {@link RECOVERY_CODE_COUNT} distinct codes. */
export function generateRecoveryCodes(count: number = RECOVERY_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < count) codes.add(generateRecoveryCode());
  return [...codes];
}

/**
 * Fold what a person typed into the canonical form: compatibility forms made plain (NFKC: full-width
 * digits and letters from an East Asian keyboard become ASCII), lower case, separators removed.
 * Returns `null` when the result is not a well-formed recovery code, so callers can reject
 * it before touching the database.
 */
export function normalizeRecoveryCode(input: string): string | null {
  if (typeof input !== 'string' || input.length > 64) return null;
  const folded = input.normalize('NFKC').replace(IGNORED_SEPARATORS, '').toLowerCase();
  return RECOVERY_CODE_PATTERN.test(folded) ? folded : null;
}

/** Display form: four groups of four, easier to read aloud and copy by hand. */
export function formatRecoveryCode(code: string): string {
  return code.match(/.{1,4}/g)?.join(' ') ?? code;
}
