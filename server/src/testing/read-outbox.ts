import type { Services } from '../services/index.js';
import { openMailBody } from '../services/mail/mail-outbox.js';

/** A queued (or sent, if its body is still there) message as tests read it. */
export interface QueuedMail {
  id: number;
  kind: string;
  to: string;
  subject: string;
  /** Empty once delivered (the sender drops bodies). */
  text: string;
  html: string;
  sentAt: number | null;
}

/**
 * The outbox rows for one recipient (oldest first), bodies opened with the server's key: HTTP-level
 * tests follow a verification link from here, the way a person follows it from their mailbox.
 */
export async function readOutbox(services: Pick<Services, 'db' | 'keys'>, filter: { to: string; kind?: string }): Promise<QueuedMail[]> {
  let query = services.db.selectFrom('mail_outbox').selectAll().where('recipient', '=', filter.to);
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  const rows = await query.orderBy('id').execute();
  return rows.map((row) => {
    const body = row.body_enc ? openMailBody(services.keys['mail-body'], row.message_id, row.body_enc) : { text: '', html: '' };
    return { id: Number(row.id), kind: row.kind, to: row.recipient, subject: row.subject, text: body.text, html: body.html, sentAt: row.sent_at };
  });
}

/** The first link in `text` whose path starts with `path` (e.g. `/account/verify-email/`), as a path + query for a test client. */
export function linkIn(text: string, path: string): string | null {
  for (const match of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    const url = new URL(match[0]);
    if (url.pathname.startsWith(path)) return `${url.pathname}${url.search}`;
  }
  return null;
}
