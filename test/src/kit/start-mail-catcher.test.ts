import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TAGS, NO_ORIGIN } from '../../../server/src/services/index.js';
import { createUserIn } from './create-user-in.js';
import { startMailCatcher, type MailCatcher } from './start-mail-catcher.js';
import { startTestServer, type TestServer } from './start-test-server.js';

describe('startMailCatcher with a test server', () => {
  let mail: MailCatcher;
  let server: TestServer;
  beforeAll(async () => {
    mail = await startMailCatcher();
    server = await startTestServer({ smtpUrl: mail.url });
  });
  afterAll(async () => {
    await server?.close();
    await mail?.close();
  });

  it('receives the verification mail as the server sends it, parsed, with its link on the server origin', async () => {
    const user = await createUserIn(server, 'no-2fa', { emailVerified: false });
    const message = await mail.waitForMail({ to: user.email, subject: /verify your e-mail/ });
    expect(message.from).toContain('no-reply@localhost');
    expect(message.html).toContain('Verify this address');
    expect(message.link('/account/verify-email/')).toMatch(new RegExp(`^${server.url}/account/verify-email/\\?token=`));
    expect(message.text).not.toContain(user.password);
  });

  it('an SMTP outage delays mail, never loses it: every message arrives once the server is back, once each', async () => {
    const user = await createUserIn(server, 'no-2fa');
    await mail.pause();
    const tags = [EVENT_TAGS.passwordChanged, EVENT_TAGS.recoveryCodesGenerated, EVENT_TAGS.passwordReset];
    for (const tag of tags) await server.services.events.record({ userId: user.id, tag, origin: NO_ORIGIN });
    // Let the sender fail a few times against the closed port.
    await expect
      .poll(
        async () =>
          (await server.services.db.selectFrom('mail_outbox').select('attempts').where('user_id', '=', user.id).execute()).every((row) => row.attempts >= 2),
        { timeout: 20_000 },
      )
      .toBe(true);
    expect(mail.find({ to: user.email })).toHaveLength(0);
    await mail.resume();
    await mail.waitForMail({ to: user.email }, { count: tags.length });
    // A little longer: nothing arrives twice.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const received = mail.find({ to: user.email });
    expect(received.map((message) => message.subject).sort()).toEqual(
      ['Latchkey (test): new recovery codes generated', 'Latchkey (test): your password was changed', 'Latchkey (test): your password was reset'].sort(),
    );
    expect(new Set(received.map((message) => message.messageId)).size).toBe(tags.length);
  });

  it('rejects with what arrived instead when no message matches in time', async () => {
    await expect(mail.waitForMail({ to: 'nobody@example.org' }, { timeoutMs: 200 })).rejects.toThrow(/no 1 message\(s\) matching/);
  });
});
