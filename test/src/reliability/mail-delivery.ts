/**
 * Mail reliability (issue 13): the outbox against crashes and several instances. Mail goes to a real
 * SMTP server in this process (the testing kit's mail catcher); the servers are child processes the
 * suite can kill -9 (harness/deployment.ts).
 */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { DEFAULT_MAIL_DELIVERY, type Config } from '../../../server/src/config.js';
import { createSessionClient } from '../kit/create-session-client.js';
import type { MailCatcher } from '../kit/start-mail-catcher.js';
import type { Deployment } from './harness/deployment.js';
import { TEST_PASSWORD, uniqueUsername } from './harness/login-flow.js';

/** Fast polling and retries, so a suite sees delivery within seconds. */
export function suiteMail(smtpUrl: string): Config['mail'] {
  return {
    ...DEFAULT_MAIL_DELIVERY,
    from: 'Latchkey (reliability) <no-reply@localhost>',
    transport: { kind: 'smtp', url: smtpUrl },
    pollMs: 100,
    backoffMs: 200,
    maxBackoffMs: 1_000,
    leaseMs: 10_000,
  };
}

/** Register `count` accounts through instance `index` over HTTP; returns their addresses (each was mailed a link). */
export async function registerOverHttp(deployment: Deployment, index: number, count: number): Promise<string[]> {
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const username = uniqueUsername('mail');
    const client = createSessionClient(deployment.instances[index]!.url);
    const response = await client.submit(ROUTES.register, {
      [FIELDS.username]: username,
      [FIELDS.email]: `${username}@example.org`,
      [FIELDS.newPassword]: TEST_PASSWORD,
      [FIELDS.passwordConfirm]: TEST_PASSWORD,
    });
    if (response.status !== 303) throw new Error(`register answered ${response.status}`);
    addresses.push(`${username}@example.org`);
  }
  return addresses;
}

/** How often each address received mail, and the Message-IDs seen more than once. */
export function deliveryCounts(mail: MailCatcher, addresses: string[]): { perAddress: Map<string, number>; duplicateMessageIds: string[] } {
  const perAddress = new Map(addresses.map((address) => [address, mail.find({ to: address }).length]));
  const seen = new Map<string, number>();
  for (const message of mail.messages) seen.set(message.messageId, (seen.get(message.messageId) ?? 0) + 1);
  return { perAddress, duplicateMessageIds: [...seen].filter(([, n]) => n > 1).map(([id]) => id) };
}

/** Outbox rows for these recipients that are not marked sent (after delivery all must be). */
export async function unsentRows(deployment: Deployment, addresses: string[]): Promise<number> {
  const rows = await deployment.services.db.selectFrom('mail_outbox').select('id').where('recipient', 'in', addresses).where('sent_at', 'is', null).execute();
  return rows.length;
}
