import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../clock.js';
import { open, seal } from '../secret-box.js';
import type { ComposedMail } from './compose-mail.js';

/** One message to queue: who gets it, what kind it is, and its composed bodies (see {@link composeMail}). */
export interface OutgoingMail extends ComposedMail {
  /** Template kind, recorded with the row: `verify-email`, `password-reset`, `notice:…`. */
  kind: string;
  /** One address. */
  to: string;
  /** The account the message is about (null for none); the sender logs it, the account page may count it. */
  userId: string | null;
}

/** The bodies of a queued message, as the sender reads them back. */
export interface MailBody {
  text: string;
  html: string;
}

export interface MailOutbox {
  /**
   * Queue a message. It is only a row in `mail_outbox`: with services bound to a transaction
   * (`services.boundTo(trx).mail.enqueue(…)`), the message commits or rolls back with the change it
   * reports, and the senders deliver it after the commit — never before, never lost by a crash.
   * Returns the row id.
   */
  enqueue(message: OutgoingMail): Promise<number>;
}

/** Message bodies are sealed under a key derived from the secret key: a database copy yields no live links. */
export function sealMailBody(key: Buffer, messageId: string, body: MailBody): string {
  return seal(key, JSON.stringify(body), `mail:${messageId}`);
}

export function openMailBody(key: Buffer, messageId: string, sealed: string): MailBody {
  return JSON.parse(open(key, sealed, `mail:${messageId}`)) as MailBody;
}

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets; anything longer (or with a line break) is not an address we send to. */
const MAX_RECIPIENT = 254;

export function createMailOutbox(db: Kysely<Database>, key: Buffer, now: Clock): MailOutbox {
  return {
    async enqueue(message) {
      const to = message.to.trim();
      if (to.length === 0 || to.length > MAX_RECIPIENT || /[\s<>,;]/.test(to) || !to.includes('@')) {
        throw new TypeError(`mail.enqueue: "${message.to}" is not one e-mail address.`);
      }
      if (/[\r\n]/.test(message.subject)) throw new TypeError('mail.enqueue: a subject is one line.');
      const messageId = randomUUID();
      const time = now();
      const row = await db
        .insertInto('mail_outbox')
        .values({
          message_id: messageId,
          user_id: message.userId,
          kind: message.kind,
          recipient: to,
          subject: message.subject,
          body_enc: sealMailBody(key, messageId, { text: message.text, html: message.html }),
          created_at: time,
          next_attempt_at: time,
          attempts: 0,
          lease_until: null,
          lease_token: null,
          sent_at: null,
          failed_at: null,
          last_error: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    },
  };
}
