import type { Kysely } from 'kysely';
import type { RateLimitRule } from '../config.js';
import type { Database } from '../db/schema.js';
import { emailKey } from './email-address.js';
import { ServiceError } from './errors.js';
import { hmac } from './keys.js';
import { incrementCounters, readCounters, worstCounter } from './rate-limit-counters.js';
import { tryAgainIn } from './request-limits.js';

/**
 * Under the `verification-resend` request limits' prefix, so their purger (request-limits.ts) drops these
 * counters too once their window ends: that purger keeps each kind's keys for the longest window among its
 * rules, this one included (`perRecipient`, config.ts).
 */
const KEY_PREFIX = 'request:verification-resend:recipient:';

/** What one more verification mail to an address gets: sent, or held back until the address's window ends. */
export type RecipientCapVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface VerificationMailCap {
  /**
   * Count one verification mail to `address` in `executor` — the transaction that queues the mail, so the
   * count commits with it and a refused request rolled back counts nothing — and say whether it may go.
   */
  take(executor: Kysely<Database>, address: string, time: number): Promise<RecipientCapVerdict>;
  /** How long until another verification mail may go to `address` (0: now). Reads only. */
  wait(executor: Kysely<Database>, address: string, time: number): Promise<number>;
}

/**
 * Verification mails to one mailbox, from every account and every server instance together (a counter in the
 * database): registration, "Add an e-mail address" and "Resend link" all mail a link to an address the
 * requester need not own, so without a cap per recipient many clients (each under its own per-network limit)
 * or many accounts (each under its own per-account limit) could flood a stranger's mailbox with our mail.
 * OWASP ASVS 4.0.3 V11.1.4 (anti-automation: limits on business-logic requests such as mail sending) and
 * V2.2.1 (anti-automation on the authentication flows, of which verification is one).
 *
 * The counter's key is an HMAC of the mailbox, never the address itself: the `rate_limits` table is not a
 * list of who registered with which address (a plain hash of an address is reversed by hashing guesses).
 * `subjectKey` is `keys['rate-limit-subject']`, the key every counter of a typed name or address is kept
 * under (request-limits.ts, rate-limits.ts).
 *
 * `rule` undefined: no cap (a configuration without `perRecipient`).
 */
export function createVerificationMailCap(subjectKey: Buffer, rule: RateLimitRule | undefined): VerificationMailCap {
  const entryFor = (address: string, cap: RateLimitRule) => ({ key: `${KEY_PREFIX}${hmac(subjectKey, mailboxKey(address))}`, ...cap });
  return {
    async take(executor, address, time) {
      if (!rule) return { allowed: true };
      const entry = entryFor(address, rule);
      const over = worstCounter([entry], await incrementCounters(executor, [entry], time), time, (count, max) => count > max);
      return over ? { allowed: false, retryAfterMs: over.retryAfterMs } : { allowed: true };
    },
    async wait(executor, address, time) {
      if (!rule) return 0;
      const entry = entryFor(address, rule);
      const full = worstCounter([entry], await readCounters(executor, [entry.key]), time, (count, max) => count >= max);
      return full ? full.retryAfterMs : 0;
    },
  };
}

/**
 * The mailbox an address reaches, as far as a server can tell without asking the recipient's domain: its
 * comparison key ({@link emailKey}) without a `+tag` after the local part (RFC 5233 subaddressing, which most
 * providers deliver to the untagged mailbox). Otherwise `victim+1@`, `victim+2@`, … would each get a full
 * allowance in the same inbox. A person whose tagged addresses share the allowance loses nothing they need.
 */
export function mailboxKey(address: string): string {
  const key = emailKey(address);
  const at = key.lastIndexOf('@');
  const plus = key.indexOf('+');
  // A local part that is only a tag ("+x@…") keeps it: there is no untagged mailbox to fold it into.
  return plus > 0 && plus < at ? `${key.slice(0, plus)}${key.slice(at)}` : key;
}

/**
 * When a verification mail held back by the cap may go: "in N minutes", rounded up, never "in 0 minutes".
 * For a sentence that names the button to press then ("use “Send link” below in 60 minutes"): "Try again in
 * N minutes" would tell someone who has tried nothing yet to try again.
 */
export function mailableIn(retryAfterMs: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterMs / 60_000));
  return `in ${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** The refused request: "Add an e-mail address" (nothing is added) or "Resend link" (the address is there already). */
export type CappedRequest = 'add' | 'resend';

/**
 * A verification mail held back by the cap, for "Add an e-mail address" and "Resend link": nothing changes
 * (the address is not added, the newest link sent keeps working), 429 with when to come back. It says only
 * what anyone could have caused (mails to this address), never whether an account has the address. A refused
 * add says that the address was not added too: "No e-mail sent" alone left the person to guess.
 */
export class VerificationMailCapped extends ServiceError {
  override name = 'VerificationMailCapped';
  readonly retryAfterSeconds: number;
  constructor(retryAfterMs: number, request: CappedRequest) {
    super(
      `${request === 'add' ? 'Not added, and no e-mail sent' : 'No e-mail sent'}: this address has been sent several verification e-mails recently, and we hold off for a while so that its mailbox cannot be flooded. ${tryAgainIn(retryAfterMs)}`,
      429,
      'email',
    );
    this.retryAfterSeconds = Math.ceil(retryAfterMs / 1000);
  }
}
