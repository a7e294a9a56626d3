import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { MailConfig } from '../../config.js';
import { isPostgres } from '../../db/dialect.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../clock.js';
import { openMailBody } from './mail-outbox.js';
import type { MailTransport } from './mail-transport.js';

/** Messages one sender claims at a time. */
const BATCH = 10;
/** Delivered or given-up rows (envelopes only: bodies are dropped on delivery) are kept this long, then deleted. */
export const OUTBOX_RETENTION_MS = 30 * 24 * 60 * 60_000;
const PURGE_INTERVAL_MS = 60 * 60_000;
const MAX_ERROR_TEXT = 500;

const idsOf = (rows: { id: number }[]) => rows.map((row) => row.id);

export interface MailSender {
  /** Poll for due messages until {@link stop}. */
  start(): void;
  /** Claim and deliver what is due now, once (tests; the polling loop calls it too). Returns how many were delivered. */
  deliverDue(): Promise<number>;
  /** Stop polling and wait for a delivery in progress to finish (clean shutdown). */
  stop(): Promise<void>;
}

export interface MailSenderOptions {
  db: Kysely<Database>;
  transport: MailTransport;
  /** `keys['mail-body']`. */
  mailKey: Buffer;
  config: Pick<MailConfig, 'from' | 'pollMs' | 'leaseMs' | 'backoffMs' | 'maxBackoffMs' | 'maxAttempts'>;
  now: Clock;
  log?: (line: string) => void;
}

/** Delay before attempt `attempts + 1`: doubling from `backoffMs`, capped, with ±20 % jitter so instances spread out. */
export function retryDelay(attempts: number, config: Pick<MailConfig, 'backoffMs' | 'maxBackoffMs'>, random: () => number = Math.random): number {
  const base = Math.min(config.maxBackoffMs, config.backoffMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * How long one delivery attempt may take: three quarters of the lease, so the attempt is over (delivered or
 * aborted, its connection closed) and recorded before any other sender may claim the row.
 */
export function sendDeadline(leaseMs: number): number {
  return Math.floor(leaseMs * 0.75);
}

/**
 * Delivers the outbox. Every server instance runs one; they share the table safely:
 * - a message is claimed with one conditional UPDATE that sets a lease (until, token) — on PostgreSQL
 *   its candidate rows are picked `FOR UPDATE SKIP LOCKED`, so instances never wait on each other and
 *   never claim the same row; on SQLite (one writer at a time) the UPDATE itself is the lock;
 * - each attempt renews the lease of its row if the token is still this sender's (else the row is skipped:
 *   another sender took it over) and is aborted at {@link sendDeadline}, so it ends inside that lease;
 * - only the holder of the lease token may mark it sent or schedule its retry;
 * - a sender that dies mid-delivery loses its lease when it expires, and another sender (or itself after
 *   a restart) delivers the message: at least once, and exactly once unless a crash falls between the SMTP
 *   server accepting the message and the commit of `sent_at` (then the same Message-ID goes out twice).
 * Failures are retried with exponential backoff up to `maxAttempts`, then marked failed and logged.
 */
export function createMailSender(options: MailSenderOptions): MailSender {
  const { db, transport, mailKey, config, now } = options;
  const log = options.log ?? console.log;
  const postgres = isPostgres(db);
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let started = false;
  let stopped = false;

  const claim = async () => {
    const time = now();
    const leaseToken = randomUUID();
    let candidates = db
      .selectFrom('mail_outbox')
      .select('id')
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .where('next_attempt_at', '<=', time)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', time)]))
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(BATCH);
    if (postgres) candidates = candidates.forUpdate().skipLocked();
    return (
      db
        .updateTable('mail_outbox')
        .set({ lease_until: time + config.leaseMs, lease_token: leaseToken })
        .where('id', 'in', candidates)
        // Re-checked on the row itself: a row another sender claimed meanwhile is not taken twice.
        .where('sent_at', 'is', null)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', time)]))
        .returningAll()
        .execute()
    );
  };

  /**
   * Start one attempt on a claimed row: a fresh lease for this row alone, and the attempt counted. The batch's
   * lease began when the batch was claimed; rows late in a batch behind a slow SMTP server outlived it, another
   * sender claimed them, and both delivered them (QA: 30 messages, 58 deliveries). Null when the row is no
   * longer ours (another sender took it over, or it was delivered meanwhile): it is skipped, not sent again.
   */
  const begin = async (row: Awaited<ReturnType<typeof claim>>[number]) =>
    db
      .updateTable('mail_outbox')
      .set((eb) => ({ lease_until: now() + config.leaseMs, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', row.id)
      .where('lease_token', '=', row.lease_token)
      .where('sent_at', 'is', null)
      .returning('attempts')
      .executeTakeFirst();

  const deliverOne = async (claimed: Awaited<ReturnType<typeof claim>>[number]): Promise<boolean> => {
    const started = await begin(claimed);
    if (!started) return false;
    const row = { ...claimed, attempts: Number(started.attempts) };
    const mine = () => db.updateTable('mail_outbox').where('id', '=', row.id).where('lease_token', '=', row.lease_token);
    try {
      if (row.body_enc === null) throw new Error('message body missing');
      const body = openMailBody(mailKey, row.message_id, row.body_enc);
      // The whole attempt ends well inside the lease (SMTP timeouts are per step, so a slow server could
      // otherwise hold one message past it): no other sender can take the row over while it is being sent.
      await transport.send(
        {
          from: config.from,
          to: row.recipient,
          subject: row.subject,
          text: body.text,
          html: body.html,
          messageId: row.message_id,
          date: new Date(row.created_at),
        },
        { signal: AbortSignal.timeout(sendDeadline(config.leaseMs)) },
      );
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_TEXT);
      const giveUp = row.attempts >= config.maxAttempts;
      await mine()
        .set({
          lease_until: null,
          lease_token: null,
          last_error: reason,
          next_attempt_at: now() + retryDelay(row.attempts, config),
          failed_at: giveUp ? now() : null,
        })
        .execute();
      if (giveUp) log(`[latchkey] mail ${row.kind} #${row.id} to ${row.recipient} given up after ${row.attempts} attempts: ${reason}`);
      return false;
    }
    // Delivered: keep the envelope (kind, recipient, time) for the record, drop the body (its links).
    await mine().set({ sent_at: now(), body_enc: null, lease_until: null, lease_token: null, last_error: null }).execute();
    return true;
  };

  let lastPurge = 0;
  /** Housekeeping, at most once an hour per sender: old envelopes go (pending rows are never touched). */
  const purgeOld = async () => {
    const time = now();
    if (time - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = time;
    await db
      .deleteFrom('mail_outbox')
      .where((eb) => eb.or([eb('sent_at', '<', time - OUTBOX_RETENTION_MS), eb('failed_at', '<', time - OUTBOX_RETENTION_MS)]))
      .execute();
  };

  /**
   * Gives back the claimed rows this sender has not started (a clean shutdown): another instance takes them
   * at once, instead of after the lease — and the shutdown waits for one message, not for the whole batch.
   */
  const release = async (rows: Awaited<ReturnType<typeof claim>>) => {
    if (rows.length === 0) return;
    await db
      .updateTable('mail_outbox')
      .set({ lease_until: null, lease_token: null })
      .where('id', 'in', idsOf(rows))
      .where('lease_token', '=', rows[0]!.lease_token)
      .execute();
  };

  const deliverDue = async (): Promise<number> => {
    await purgeOld();
    let delivered = 0;
    for (;;) {
      const rows = await claim();
      for (const [index, row] of rows.entries()) {
        if (stopped) {
          await release(rows.slice(index));
          return delivered;
        }
        if (await deliverOne(row)) delivered++;
      }
      if (rows.length < BATCH || stopped) return delivered;
    }
  };

  const tick = () => {
    timer = null;
    if (stopped) return;
    running = deliverDue()
      .catch((error: unknown) => {
        // The database may be briefly unavailable; the next tick tries again.
        log(`[latchkey] mail sender: ${error instanceof Error ? error.message : String(error)}`);
        return 0;
      })
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(tick, config.pollMs);
      });
  };

  return {
    start() {
      if (started || stopped) return;
      started = true;
      timer = setTimeout(tick, 0);
    },
    deliverDue: () => (running ??= deliverDue().finally(() => (running = null))),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => undefined);
      transport.close();
    },
  };
}
