import type { Services } from '../services/index.js';
import { openMailBody } from '../services/mail/mail-outbox.js';
import { RESET_PASSWORD_PATH } from '../services/password-resets.js';
import { linkIn } from './read-outbox.js';

/** A reset-link mail as a test reads it from the outbox. */
export interface QueuedResetLink {
  userId: string | null;
  to: string;
  /** `/account/reset-password/?token=…`, as a path for a test client. */
  path: string;
  token: string;
}

/**
 * Ask for reset links for `identifier` and return the reset mails this request queued, read back from
 * the outbox the way a person reads them from a mailbox.
 */
export async function requestResetLinks(services: Pick<Services, 'db' | 'keys' | 'passwordResets'>, identifier: string): Promise<QueuedResetLink[]> {
  const last = await services.db
    .selectFrom('mail_outbox')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  await services.passwordResets.request(identifier);
  const rows = await services.db
    .selectFrom('mail_outbox')
    .selectAll()
    .where('kind', '=', 'password-reset')
    .where('id', '>', Number(last?.id ?? 0))
    .orderBy('id')
    .execute();
  return rows.map((row) => {
    const path = linkIn(openMailBody(services.keys['mail-body'], row.message_id, row.body_enc!).text, RESET_PASSWORD_PATH)!;
    return { userId: row.user_id, to: row.recipient, path, token: new URLSearchParams(path.split('?')[1]).get('token')! };
  });
}
