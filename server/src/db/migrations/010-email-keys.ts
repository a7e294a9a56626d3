import { domainToASCII } from 'node:url';
import type { Kysely } from 'kysely';

interface Before {
  user_emails: {
    id: number;
    user_id: string;
    email: string;
    email_key: string;
    is_primary: number;
    verified_at: number | null;
    verify_nonce: string | null;
  };
  users: { id: string; username: string };
  events: { user_id: string | null; tag: string; ip: string | null; user_agent: string | null; details: string; created_at: number };
}

type Row = Before['user_emails'];

/** The outcome for one address row: removed as a duplicate of `removedFor`, or kept with its final key and verification. */
interface Plan {
  row: Row;
  key: string;
  verifiedAt: number | null;
  removedFor?: Row;
  /** Another account's row that keeps the verification this row had. */
  verificationLostTo?: Row;
}

const LOG_PREFIX = '[latchkey] migration 010-email-keys:';

/**
 * The event tags 010 writes, as they were the day it shipped. A migration is frozen: a database migrated later
 * must get what one migrated then got, so nothing here is read from services/ (the live `EVENT_TAGS` may be
 * renamed; a rename needs its own migration for the rows already written). migrations-frozen.test.ts keeps it so.
 */
export const TAGS_010 = {
  emailRemoved: 'account:email:removed',
  emailVerified: 'account:email:verified',
  emailVerificationWithdrawn: 'account:email:verification_withdrawn',
} as const;

/**
 * The address key of the rule 010 moved every row to: services/email-address.ts `emailKey` as it was the day
 * 010 shipped (NFC, lower case, the domain in its ASCII form), copied so that a later change to that rule changes
 * what a later migration does, never what this one did. A later rule that changes keys needs its own migration
 * to re-key the rows. 010-email-keys.test.ts checks that both still agree today. (`domainToASCII` and the string
 * methods are the runtime's: a Node with other IDNA or Unicode tables could differ on rare domains; no copy here
 * could freeze those short of shipping the tables.)
 */
export function emailKey010(email: string): string {
  const text = email.trim().normalize('NFC').toLowerCase().normalize('NFC');
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const domain = domainToASCII(text.slice(at + 1));
  return domain === '' ? text : `${text.slice(0, at)}@${domain}`;
}

/**
 * Every address row gets the key of the comparison rule of the day, {@link emailKey010} (NFC, lower case, the
 * domain in its ASCII form). Rows written before that rule keep the key their text had then (trimmed and lower-cased),
 * so the database's own checks — one row per address per account (`user_emails_user_address`), one account
 * per verified address (`user_emails_verified_address`) — and the "verified by another account" check compared
 * those rows under the old rule: the same mailbox in its other spelling (a Unicode or an ASCII domain, a
 * decomposed accent) could be added to an account twice, or verified by two accounts. Afterwards one key per
 * address, and lookups need no second, old-rule key.
 *
 * Rows that now share a key are resolved, never by failing the start (OWASP ASVS V2.5: the address that
 * receives reset links stays unambiguous):
 * - Two rows of one account: the primary row stays, else the one verified first, else the oldest; the others
 *   are removed, each with an `account:email:removed` event in the account's history (`by: "migration"`, the
 *   address kept in `kept`). A kept row that was unverified takes the verification of a removed duplicate (the
 *   same mailbox was proved), with an `account:email:verified` event.
 * - Verified rows of two accounts: the account where it is the primary address keeps the verification, else
 *   the one that verified it first; the others' rows stay on their accounts, unverified (their owners see
 *   "Another account verified this address first" if they follow a link). Each such account gets an
 *   `account:email:verification_withdrawn` event (`by: "migration"`, its own row's address in `email`, never the
 *   other account: that account's address and name are not its owner's to see), so its owner does not find the
 *   address unverified without a word; the operator is told in the server's log, by username, never the address
 *   (it is personal data).
 * Events are recorded without mail: a migration holds no mail key (the outbox seals every body), and the change is
 * the server's own. The owner reads it in the security history.
 */
export async function up(db: Kysely<Before>): Promise<void> {
  const rows = await db
    .selectFrom('user_emails')
    .select(['id', 'user_id', 'email', 'email_key', 'is_primary', 'verified_at', 'verify_nonce'])
    .orderBy('id')
    .execute();
  const plans = rows.map((row): Plan => ({ row: { ...row, id: Number(row.id) }, key: emailKey010(row.email), verifiedAt: toNumber(row.verified_at) }));
  // Keys are unique per account and among verified rows: two rows can share a new key only if one changed.
  if (plans.every((plan) => plan.key === plan.row.email_key)) return;

  const kept: Plan[] = [];
  for (const group of groupBy(plans, (plan) => `${plan.row.user_id}\n${plan.key}`)) {
    const [keep, ...duplicates] = [...group].sort(
      (a, b) => b.row.is_primary - a.row.is_primary || compareVerified(a.verifiedAt, b.verifiedAt) || a.row.id - b.row.id,
    );
    kept.push(keep!);
    for (const duplicate of duplicates) {
      duplicate.removedFor = keep!.row;
      if (keep!.verifiedAt === null && duplicate.verifiedAt !== null) keep!.verifiedAt = duplicate.verifiedAt;
    }
  }
  for (const group of groupBy(
    kept.filter((plan) => plan.verifiedAt !== null),
    (plan) => plan.key,
  )) {
    const [winner, ...losers] = [...group].sort(
      (a, b) => b.row.is_primary - a.row.is_primary || compareVerified(a.verifiedAt, b.verifiedAt) || a.row.id - b.row.id,
    );
    for (const loser of losers) {
      loser.verifiedAt = null;
      loser.verificationLostTo = winner!.row;
    }
  }

  const removed = plans.filter((plan) => plan.removedFor !== undefined);
  const changed = kept.filter((plan) => plan.key !== plan.row.email_key);
  const unverified = kept.filter((plan) => plan.verifiedAt === null && plan.row.verified_at !== null);
  const newlyVerified = kept.filter((plan) => plan.verifiedAt !== null && plan.row.verified_at === null);
  // Each step leaves both unique indexes satisfied: duplicates and lost verifications go first, then every
  // changing row moves to a key no real one has (real keys are trimmed: none starts with a space), then to its own.
  for (const plan of removed) await db.deleteFrom('user_emails').where('id', '=', plan.row.id).execute();
  for (const plan of unverified) await db.updateTable('user_emails').set({ verified_at: null }).where('id', '=', plan.row.id).execute();
  for (const plan of changed)
    await db
      .updateTable('user_emails')
      .set({ email_key: ` 010 ${plan.row.id}` })
      .where('id', '=', plan.row.id)
      .execute();
  for (const plan of changed) await db.updateTable('user_emails').set({ email_key: plan.key }).where('id', '=', plan.row.id).execute();
  for (const plan of newlyVerified) {
    await db.updateTable('user_emails').set({ verified_at: plan.verifiedAt, verify_nonce: null }).where('id', '=', plan.row.id).execute();
  }

  const time = Date.now();
  const record = (userId: string, tag: string, details: Record<string, unknown>) =>
    db
      .insertInto('events')
      .values({ user_id: userId, tag, ip: null, user_agent: null, details: JSON.stringify(details), created_at: time })
      .execute();
  for (const plan of removed) {
    await record(plan.row.user_id, TAGS_010.emailRemoved, {
      email: plan.row.email,
      verified: plan.verifiedAt !== null,
      by: 'migration',
      kept: plan.removedFor!.email,
    });
  }
  for (const plan of newlyVerified) await record(plan.row.user_id, TAGS_010.emailVerified, { email: plan.row.email, by: 'migration' });
  const lost = kept.filter((plan) => plan.verificationLostTo !== undefined);
  // Its own address only: which account kept the verification is another owner's personal data (ASVS V8.3).
  for (const plan of lost) await record(plan.row.user_id, TAGS_010.emailVerificationWithdrawn, { email: plan.row.email, by: 'migration' });

  if (removed.length === 0 && lost.length === 0) return;
  const userIds = [...new Set([...removed.map((plan) => plan.row.user_id), ...lost.flatMap((plan) => [plan.row.user_id, plan.verificationLostTo!.user_id])])];
  const names = new Map(
    (await db.selectFrom('users').select(['id', 'username']).where('id', 'in', userIds).execute()).map((user) => [user.id, user.username] as const),
  );
  const name = (userId: string) => `"${names.get(userId) ?? userId}"`;
  for (const [userId, count] of countBy(removed, (plan) => plan.row.user_id)) {
    console.warn(
      `${LOG_PREFIX} account ${name(userId)}: removed ${count === 1 ? 'an address row that duplicated another' : `${count} address rows that duplicated others`} ` +
        'under the current comparison rule (recorded in its security history).',
    );
  }
  for (const plan of lost) {
    console.warn(
      `${LOG_PREFIX} account ${name(plan.row.user_id)}: one of its addresses is no longer verified: account ${name(plan.verificationLostTo!.user_id)} ` +
        'verified the same address (in another spelling) and keeps it (recorded in its security history). Its owner can verify another address.',
    );
  }
}

/** Nothing to undo: the older code looks addresses up under both the old and the current key. */
export async function down(): Promise<void> {}

function toNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

/** Verified first, earliest first; unverified last. */
function compareVerified(a: number | null, b: number | null): number {
  if (a === null || b === null) return (a === null ? 1 : 0) - (b === null ? 1 : 0);
  return a - b;
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}

function countBy<T>(items: T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
}
