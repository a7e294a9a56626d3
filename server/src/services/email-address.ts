import { domainToASCII } from 'node:url';

/**
 * The one rule for an e-mail address typed into any form (registration, "Add an e-mail address", the admin
 * CLI's `create-user`), and the one key addresses are compared by (those forms and "Forgot password?").
 */

export const EMAIL_MAX_LENGTH = 254;
/** RFC 5321 4.5.3.1.1. */
const MAX_LOCAL_PART_OCTETS = 64;
/** RFC 1035 2.3.4 / RFC 5321 4.5.3.1.2. */
const MAX_DOMAIN_OCTETS = 253;
/**
 * One plain address: no spaces, and none of the characters that would make it a list or a display name in a
 * header. The domain's dot is looked for once it is in ASCII (a full-width "．" becomes one).
 */
const EMAIL_PATTERN = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+$/;
/** Control (Cc) and format (Cf) characters: never part of a real address. */
const INVISIBLE_CHARACTERS = /[\p{Cc}\p{Cf}]/u;
const ASCII_ONLY = /^[\x21-\x7e]*$/;
/** RFC 5321 4.1.2 `sub-domain = Let-dig [Ldh-str]`, at most 63 octets (RFC 1035), as `domainToASCII` returns it (lower case). */
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const INVALID = 'Enter a valid email address, like name@example.org.';
export const NON_ASCII_LOCAL_PART_MESSAGE =
  'Use an address whose part before the @ has only ASCII characters (the letters a–z, digits and symbols such as . _ + -): mail to other addresses is refused by many mail servers, so our messages would never reach you.';

export type EmailAddressCheck = { ok: true; address: string } | { ok: false; message: string };

/**
 * The address to store and mail for what was typed, or why there is none.
 *
 * - Trimmed, then Unicode-normalised to NFC, so a precomposed "é" and "e" + combining accent are one address.
 * - The domain is converted to its ASCII form (IDNA, RFC 5891: `exämple.org` becomes `xn--exmple-cua.org`,
 *   upper case becomes lower) and must then be a host name (RFC 5321 4.1.2: letters, digits and hyphens per
 *   label). Every mail server can route that form, and one mailbox has one spelling: the Unicode and the
 *   A-label spellings of a domain are the same address, not two.
 * - The part before the @ must be ASCII. An address with a non-ASCII local part (`jörg@example.org`) needs
 *   SMTPUTF8 (RFC 6531) on every hop: a relay without it must refuse it (RFC 6531 3.4; RFC 5321 4.1.2 allows
 *   only ASCII), and it has no ASCII form to fall back on (RFC 6530 section 7: only its owner can give another
 *   address). nodemailer asks for SMTPUTF8 only when the relay offers it and otherwise sends the address raw,
 *   which such a relay refuses on every attempt of the outbox's four-hour retry schedule: the verification link
 *   could never arrive. Nothing at registration can tell whether the relay, and the recipient's server behind
 *   it, will take it, so it is refused here, with a message saying what to use instead.
 */
export function normalizeEmailAddress(typed: string): EmailAddressCheck {
  const trimmed = typed.trim();
  if (trimmed.length === 0) return refuse('Enter an email address.');
  // Cc (controls: PostgreSQL refuses U+0000 outright) and Cf (bidi overrides, zero-width characters): an
  // address holding them would show on the account page and in logs looking like another one.
  if (INVISIBLE_CHARACTERS.test(trimmed)) return refuse('An email address cannot contain control or invisible formatting characters.');
  const email = trimmed.normalize('NFC');
  if (email.length > EMAIL_MAX_LENGTH || !EMAIL_PATTERN.test(email)) return refuse(INVALID);
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  if (!ASCII_ONLY.test(local)) return refuse(NON_ASCII_LOCAL_PART_MESSAGE);
  // RFC 5321 4.1.2: a local part without quotes (quotes are refused above) is a Dot-string, atoms joined by single
  // dots. ".a", "a." and "a..b" are no address a mail server must take, and many refuse them: a link sent there
  // would never arrive (the fuzz round found all three accepted).
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..'))
    return refuse('The part before the @ cannot start or end with a dot, or have two dots in a row: check the address.');
  // RFC 5321 4.5.3.1.1: a mail server need not take a local part over 64 octets; a link sent there would never arrive.
  if (local.length > MAX_LOCAL_PART_OCTETS)
    return refuse(`The part before the @ is too long (at most ${MAX_LOCAL_PART_OCTETS} characters): check the address.`);
  // '' for a domain IDNA cannot convert (a bad A-label such as "xn--zz", a "%").
  const domain = domainToASCII(email.slice(at + 1));
  const labels = domain.split('.');
  // A name without a dot ("alice@example") is a typo far more often than a mailbox on a top-level domain.
  if (domain !== '' && labels.length < 2) return refuse(INVALID);
  if (domain === '' || domain.length > MAX_DOMAIN_OCTETS || !labels.every((label) => DOMAIN_LABEL.test(label))) {
    return refuse('The part after the @ is not a valid domain name: check the address.');
  }
  const address = `${local}@${domain}`;
  // The ASCII form of a domain is longer than its Unicode one.
  if (address.length > EMAIL_MAX_LENGTH) return refuse(INVALID);
  return { ok: true, address };
}

/** Why `typed` is not an address {@link normalizeEmailAddress} accepts, or null. */
export function emailProblem(typed: string): string | null {
  const check = normalizeEmailAddress(typed);
  return check.ok ? null : check.message;
}

/**
 * How addresses are compared: trimmed, NFC, lower case (the domain is case-insensitive; we do not rely on
 * local-part case), the domain in its ASCII form. For an address {@link normalizeEmailAddress} accepts this is
 * its normalised address in lower case; anything else (a username typed into "Forgot password?", an address
 * stored before the rule) gets the same treatment as far as it goes, so a lookup never fails on a spelling.
 * Every `user_emails.email_key` is this key of its row's address (migration 010 re-keyed the rows stored
 * under the older rule), so one key finds an address however it is typed.
 */
export function emailKey(email: string): string {
  const text = email.trim().normalize('NFC').toLowerCase().normalize('NFC');
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const domain = domainToASCII(text.slice(at + 1));
  return domain === '' ? text : `${text.slice(0, at)}@${domain}`;
}

function refuse(message: string): EmailAddressCheck {
  return { ok: false, message };
}
