import { isIP } from 'node:net';
import type { Kysely } from 'kysely';
import type { RecipientCapRule } from '../config.js';
import type { Database } from '../db/schema.js';
import { addressBlock } from './address-block.js';
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
/** One mailbox from one client network: a prefix of its own, so a network's key can never be a mailbox's. */
const NETWORK_KEY_PREFIX = 'request:verification-resend:recipient-network:';
/** The "network" of requests without a client address (admin CLI, seeding): no address block is spelled so. */
const NO_CLIENT_ADDRESS = 'no-client-address';

/** What one more verification mail to an address gets: sent, or held back until the address's window ends. */
export type RecipientCapVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface VerificationMailCap {
  /**
   * Count one verification mail to `address` asked for from `ip` (null: no client address) in `executor` — the
   * transaction that queues the mail, so a refused add or resend, rolled back, counts nothing — and say
   * whether it may go.
   */
  take(executor: Kysely<Database>, address: string, ip: string | null, time: number): Promise<RecipientCapVerdict>;
  /** How long until another verification mail asked for from `ip` may go to `address` (0: now). Reads only. */
  wait(executor: Kysely<Database>, address: string, ip: string | null, time: number): Promise<number>;
}

/**
 * Verification mails to one mailbox, from every account and every server instance together (counters in the
 * database): registration, "Add an e-mail address" and "Resend link" all mail a link to an address the
 * requester need not own, so without a cap per recipient many clients (each under its own per-network limit)
 * or many accounts (each under its own per-account limit) could flood a stranger's mailbox with our mail.
 * OWASP ASVS 4.0.3 V11.1.4 (anti-automation: limits on business-logic requests such as mail sending) and
 * V2.2.1 (anti-automation on the authentication flows, of which verification is one).
 *
 * Two counters per mail, as request-limits.ts counts a request per network and for everyone: the mailbox from
 * the requester's network block (`perNetworkMax`), then the mailbox from everywhere (`max`). A single shared
 * allowance was a denial-of-service lever (review of the cap): two accounts holding a stranger's address, or a
 * few registrations from one network, kept it full every hour, and the owner never got a link. Now one network
 * spends only its own allowance, and a request it refuses never reaches the shared counter (so refused
 * requests cannot fill it either); keeping the owner out needs the shared cap filled from several networks
 * every hour (NIST SP 800-63B 5.2.2 asks that such limits not lock the legitimate subscriber out).
 *
 * Requests without a client address (the admin CLI, seeding) have their own allowance (`perNetworkMax`, under
 * one "network" of their own) and are counted in the shared cap but never refused by it: strangers' traffic
 * cannot block the operator, and the operator cannot flood a mailbox by accident either (`verify-email` is the
 * operator's way round the cap).
 *
 * Each key is an HMAC of the mailbox (and network), never the address itself: the `rate_limits` table is not
 * a list of who registered with which address, or from where (a plain hash of an address is reversed by
 * hashing guesses). `subjectKey` is `keys['rate-limit-subject']`, the key every counter of a typed name or
 * address is kept under (request-limits.ts, rate-limits.ts).
 *
 * `rule` undefined: no cap (a configuration without `perRecipient`).
 */
export function createVerificationMailCap(subjectKey: Buffer, rule: RecipientCapRule | undefined): VerificationMailCap {
  const entriesFor = (address: string, ip: string | null, cap: RecipientCapRule) => {
    const mailbox = mailboxKey(address);
    const network = ip ? networkOf(ip) : NO_CLIENT_ADDRESS;
    return {
      network: { key: `${NETWORK_KEY_PREFIX}${hmac(subjectKey, JSON.stringify([mailbox, network]))}`, max: cap.perNetworkMax, windowMs: cap.windowMs },
      shared: { key: `${KEY_PREFIX}${hmac(subjectKey, mailbox)}`, max: cap.max, windowMs: cap.windowMs },
      // The operator's requests are never refused by what strangers did (see above).
      refusedByShared: ip !== null,
    };
  };
  const isOver = (count: number, max: number) => count > max;
  return {
    async take(executor, address, ip, time) {
      if (!rule) return { allowed: true };
      const { network, shared, refusedByShared } = entriesFor(address, ip, rule);
      // The network's counter first, the shared one only for a mail it lets through (one row per statement, in
      // this order everywhere, so two transactions never wait on each other's rows in a cycle).
      const overNetwork = worstCounter([network], await incrementCounters(executor, [network], time), time, isOver);
      if (overNetwork) return { allowed: false, retryAfterMs: overNetwork.retryAfterMs };
      const overShared = worstCounter([shared], await incrementCounters(executor, [shared], time), time, isOver);
      return overShared && refusedByShared ? { allowed: false, retryAfterMs: overShared.retryAfterMs } : { allowed: true };
    },
    async wait(executor, address, ip, time) {
      if (!rule) return 0;
      const { network, shared, refusedByShared } = entriesFor(address, ip, rule);
      const entries = refusedByShared ? [network, shared] : [network];
      const full = worstCounter(
        entries,
        await readCounters(
          executor,
          entries.map((entry) => entry.key),
        ),
        time,
        (count, max) => count >= max,
      );
      return full ? full.retryAfterMs : 0;
    },
  };
}

/**
 * The client network a request is counted under: {@link addressBlock} (an IPv6 /64, one subscriber's), with an
 * IPv4 address widened to its /24. addressBlock keeps an IPv4 address whole, as the per-network request limits
 * want; for this cap a single address is too cheap a "network" (a few cloud machines, one per address, would
 * fill the shared cap with each one's own allowance). The price: an owner in the same /24 as the sender (an
 * office, a carrier's NAT) shares its allowance, as one /64 does.
 */
function networkOf(ip: string): string {
  const block = addressBlock(ip);
  return isIP(block) === 4 ? `${block.slice(0, block.lastIndexOf('.'))}.0/24` : block;
}

const GMAIL = 'gmail.com';

/**
 * The mailbox an address reaches, as far as a server can tell without asking the recipient's domain: its
 * comparison key ({@link emailKey}) without a `+tag` after the local part (RFC 5233 subaddressing, which most
 * providers deliver to the untagged mailbox). Otherwise `victim+1@`, `victim+2@`, … would each get a full
 * allowance in the same inbox. A person whose tagged addresses share the allowance loses nothing they need.
 *
 * Gmail's own rules too, which Google documents (Gmail Help, "Dots don't matter in Gmail addresses",
 * support.google.com/mail/answer/7436150; googlemail.com is the same service as gmail.com), so `v.ictim@googlemail.com` is
 * `victim@gmail.com`. No other provider's rules are guessed: folding two real mailboxes into one would make
 * one owner's allowance depend on another.
 */
export function mailboxKey(address: string): string {
  const key = emailKey(address);
  const at = key.lastIndexOf('@');
  if (at < 0) return key;
  let local = key.slice(0, at);
  let domain = key.slice(at + 1);
  const plus = local.indexOf('+');
  // A local part that is only a tag ("+x@…") keeps it: there is no untagged mailbox to fold it into.
  if (plus > 0) local = local.slice(0, plus);
  if (domain === GMAIL || domain === 'googlemail.com') {
    domain = GMAIL;
    // A local part of dots only is no Gmail address; kept as typed rather than folded to nothing.
    local = local.replaceAll('.', '') || local;
  }
  return `${local}@${domain}`;
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
