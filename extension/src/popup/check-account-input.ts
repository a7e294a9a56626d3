import { isMigrationLink, MIGRATION_LINK_MESSAGE } from '@latchkey/shared';
import { normalizeOrigin, OriginError } from '../vault/origin.js';

/** The add form's input: a pasted/scanned link, or typed fields; and the site it fills on. */
export interface AccountFormInput {
  mode: 'scan' | 'paste' | 'manual';
  uri: string;
  label: string;
  secret: string;
  origin: string;
}

/** The first problem found, on the field it is about; `suggestion` is a value the person can accept. */
export interface InputProblem {
  field: 'uri' | 'label' | 'secret' | 'origin';
  message: string;
  suggestion?: string;
}

/**
 * Checks the add form can make at once, in the popup, before anything else happens: in particular
 * before the site-access prompt, which a browser may leave unanswered (headless) — so a plainly wrong
 * link or address is reported the moment Save is pressed. The background validates everything again
 * with the full otpauth parser (not loaded in the popup, to keep it small).
 */
export function checkAccountInput(input: AccountFormInput): InputProblem | null {
  if (input.mode === 'manual') {
    if (input.label.trim() === '') return { field: 'label', message: 'Enter the account name (your user name on the site).' };
    const secret = input.secret.replace(/[\s-]/g, '').replace(/=+$/, '');
    if (secret === '') return { field: 'secret', message: 'Enter the secret key.' };
    if (!/^[a-z2-7]+$/i.test(secret)) return { field: 'secret', message: 'The secret key must be base32: letters A–Z and digits 2–7 only.' };
  } else {
    const uri = input.uri.trim();
    if (uri === '') return { field: 'uri', message: 'Paste the otpauth:// link first.' };
    // Google Authenticator's export: not a key URI at all, and a person can do something else (QA).
    if (isMigrationLink(uri)) return { field: 'uri', message: MIGRATION_LINK_MESSAGE };
    if (/^otpauth:\/\/hotp\//i.test(uri)) return { field: 'uri', message: 'Counter-based (HOTP) accounts are not supported; only time-based (TOTP) ones.' };
    if (!/^otpauth:\/\/totp\//i.test(uri)) {
      return { field: 'uri', message: 'This is not a two-factor link: it must start with otpauth://totp/ (the link behind the QR code).' };
    }
    if (!/[?&]secret=[^&]/i.test(uri)) return { field: 'uri', message: 'This link has no secret= part; copy the whole link.' };
  }
  return checkFillOrigin(input.origin);
}

/** The "Fills on" address alone (also the edit form's check): null when it is a valid origin. */
export function checkFillOrigin(origin: string): InputProblem | null {
  try {
    normalizeOrigin(origin);
    return null;
  } catch (error) {
    if (!(error instanceof OriginError)) throw error;
    return { field: 'origin', message: error.message, ...(error.suggestion ? { suggestion: error.suggestion } : {}) };
  }
}

/**
 * Which typed field a refusal of the background's full check is about (the popup's quick check above sees
 * only the characters: a secret too short or too long, a name over the length limit are found there). Its
 * messages name the secret when it is the secret; the rest are about the names, shown on the account name.
 * Before, they were a notice under the form while the secret field stayed unmarked.
 */
export function typedFieldOf(message: string): 'secret' | 'label' {
  return /\bsecret\b/i.test(message) ? 'secret' : 'label';
}
