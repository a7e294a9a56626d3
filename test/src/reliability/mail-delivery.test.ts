import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailCatcher, type MailCatcher } from '../kit/start-mail-catcher.js';
import { startDeployment, type Deployment } from './harness/deployment.js';
import { PER_IP_LIFTED } from './harness/limits.js';
import { deliveryCounts, registerOverHttp, suiteMail, unsentRows } from './mail-delivery.js';
import { seedUser } from './harness/login-flow.js';

/** After the last expected message, wait this much longer: a duplicate would show up here. */
const QUIET_MS = 1_500;
const settle = () => new Promise((resolve) => setTimeout(resolve, QUIET_MS));

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`mail delivery, ${dialect}`, { timeout: 240_000 }, () => {
    let mail: MailCatcher;
    let deployment: Deployment;
    beforeAll(async () => {
      mail = await startMailCatcher();
      deployment = await startDeployment({ dialect, instances: 1, rateLimits: PER_IP_LIFTED, mail: suiteMail(mail.url) });
    }, 240_000);
    afterAll(async () => {
      await deployment?.close();
      await mail?.close();
    });

    it('kill -9 between the commit and the delivery: after the restart every message arrives, once', async () => {
      // SMTP is down, so the registrations commit their mail but nothing can be delivered yet.
      await mail.pause();
      const addresses = await registerOverHttp(deployment, 0, 5);
      await deployment.instances[0]!.crash();
      expect(await unsentRows(deployment, addresses)).toBe(addresses.length);
      await mail.resume();
      await deployment.restart(0);
      for (const address of addresses) await mail.waitForMail({ to: address, subject: /verify your e-mail/ }, { timeoutMs: 60_000 });
      await settle();
      const counts = deliveryCounts(mail, addresses);
      expect([...counts.perAddress.values()]).toEqual(addresses.map(() => 1));
      expect(counts.duplicateMessageIds).toEqual([]);
      expect(await unsentRows(deployment, addresses)).toBe(0);
    });
  });
}

describe('mail delivery, postgres, two instances', { timeout: 240_000 }, () => {
  let mail: MailCatcher;
  let deployment: Deployment;
  beforeAll(async () => {
    mail = await startMailCatcher();
    // Polling every 20 ms, so both instances keep reaching for the same due rows at the same moments.
    deployment = await startDeployment({ dialect: 'postgres', instances: 2, rateLimits: PER_IP_LIFTED, mail: { ...suiteMail(mail.url), pollMs: 20 } });
  }, 240_000);
  afterAll(async () => {
    await deployment?.close();
    await mail?.close();
  });

  it('two senders on one outbox: a backlog released at once is delivered exactly once', async () => {
    await mail.pause();
    // A backlog queued while SMTP is down; both instances keep retrying it.
    const users = [];
    for (let i = 0; i < 40; i++) users.push(await seedUser(deployment.services, { prefix: 'duo' }));
    const addresses = users.map((user) => `${user.username}@example.org`);
    // Both instances keep claiming the same due rows while SMTP is refused.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await mail.resume();
    for (const address of addresses) await mail.waitForMail({ to: address }, { timeoutMs: 60_000 });
    await settle();
    const counts = deliveryCounts(mail, addresses);
    expect([...counts.perAddress.values()].filter((n) => n !== 1)).toEqual([]);
    expect(counts.duplicateMessageIds).toEqual([]);
    expect(await unsentRows(deployment, addresses)).toBe(0);
  });
});
