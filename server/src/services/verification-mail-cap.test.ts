import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_LIMITS } from '../config.js';
import type { Database } from '../db/schema.js';
import { readOutbox } from '../testing/read-outbox.js';
import { createServiceHarness, DIALECTS, type ServiceHarness, useTwoInstances } from '../testing/service-harness.js';
import { uniqueName } from '../testing/unique-name.js';
import { emailKey } from './email-address.js';
import { EVENT_TAGS, NO_ORIGIN } from './events.js';
import type { Services } from './index.js';
import { createVerificationMailCap, mailboxKey, VerificationMailCapped } from './verification-mail-cap.js';

const PASSWORD = 'correct horse battery staple';
const CAP = DEFAULT_REQUEST_LIMITS['verification-resend'].perRecipient!;

describe('mailboxKey', () => {
  it('is the comparison key without a +tag, so tagged spellings of one mailbox share its allowance', () => {
    expect(mailboxKey(' Victim+news@Example.ORG ')).toBe('victim@example.org');
    expect(mailboxKey('victim+a+b@example.org')).toBe('victim@example.org');
    expect(mailboxKey('victim@exämple.org')).toBe(emailKey('victim@xn--exmple-cua.org'));
    // Only a tag after a local part is dropped: "+x@…" has no untagged mailbox to fold into.
    expect(mailboxKey('+x@example.org')).toBe('+x@example.org');
  });
});

describe('createVerificationMailCap without a rule', () => {
  it('caps nothing (a configuration without perRecipient)', async () => {
    const cap = createVerificationMailCap(Buffer.alloc(32), undefined);
    // Never touches the database: no executor is needed to say yes.
    const none = undefined as unknown as Kysely<Database>;
    expect(await cap.take(none, 'victim@example.org', 0)).toEqual({ allowed: true });
    expect(await cap.wait(none, 'victim@example.org', 0)).toBe(0);
  });
});

describe.each(DIALECTS)('verification mails to one mailbox, on %s, two server instances over one database', (dialect) => {
  let h: ServiceHarness;
  let other: Services;
  useTwoInstances(
    dialect,
    (first, second) => {
      h = first;
      other = second;
    },
    { requestLimits: DEFAULT_REQUEST_LIMITS },
  );

  /** A fresh victim address per test, so tests never share a counter. */
  const victimAddress = () => `${uniqueName('victim')}@example.org`;
  const verifyMails = async (to: string) => (await readOutbox(h.services, { to, kind: 'verify-email' })).length;
  const register = (services: Services, email: string) => services.accounts.register({ username: uniqueName('cap'), email, password: PASSWORD }, NO_ORIGIN);
  const instance = (i: number) => (i % 2 === 0 ? h.services : other);

  it('registrations by many accounts, alternating instances: the first mails go, the rest make the account without a link', async () => {
    const victim = victimAddress();
    // Other spellings of the same mailbox count as the same recipient (case, a +tag).
    const spellings = [victim, victim.toUpperCase(), victim.replace('@', '+a@'), victim.replace('@', '+b@')];
    const users = [];
    for (let i = 0; i < CAP.max + 3; i++) users.push(await register(instance(i), spellings[i % spellings.length]!));
    // Every account was made: registering never depends on who else used the address (no enumeration).
    expect(users).toHaveLength(CAP.max + 3);
    const addresses = await Promise.all(users.map(async (user) => (await h.services.emails.list(user.id))[0]!));
    let mailed = 0;
    for (const stored of new Set(addresses.map((address) => address.email))) mailed += await verifyMails(stored);
    expect(mailed).toBe(CAP.max);
    expect(addresses.filter((address) => address.verifySentAt !== null)).toHaveLength(CAP.max);
    // The accounts past the cap hold their address unverified and without a link, and are told how long to wait.
    for (const address of addresses.slice(CAP.max)) expect(address).toMatchObject({ verified: false, verifySentAt: null });
    for (const services of [h.services, other]) expect(await services.emails.verificationMailWait(victim)).toBe(CAP.windowMs);
    // A different mailbox is not affected.
    expect(await h.services.emails.verificationMailWait(victimAddress())).toBe(0);

    // Once the window ends, "Resend link" mails a link to the account that got none.
    h.clock.advance(CAP.windowMs);
    const late = users.at(-1)!;
    const lateAddress = addresses.at(-1)!;
    expect(await other.emails.verificationMailWait(victim)).toBe(0);
    await h.services.emails.resend(late.id, lateAddress.id, NO_ORIGIN);
    expect((await h.services.emails.list(late.id))[0]!.verifySentAt).toBe(h.clock());
  });

  it('a burst of registrations over both instances at once sends exactly the cap', async () => {
    const victim = victimAddress();
    const users = await Promise.all(Array.from({ length: 3 * CAP.max }, (_, i) => register(instance(i), victim)));
    expect(users).toHaveLength(3 * CAP.max);
    expect(await verifyMails(victim)).toBe(CAP.max);
  });

  it('"Add" and "Resend link" from other accounts are capped too: refused with 429, nothing changes, the older link still works', async () => {
    const victim = victimAddress();
    const adders = [];
    for (let i = 0; i < CAP.max + 1; i++) adders.push(await register(instance(i), `${uniqueName('own')}@example.org`));
    // The first CAP accounts add the victim's address, alternating instances: each add mails a link.
    for (let i = 0; i < CAP.max; i++) await instance(i).emails.add(adders[i]!.id, victim, NO_ORIGIN);
    expect(await verifyMails(victim)).toBe(CAP.max);

    // The next account: refused before anything is counted (the route's pre-check) and in the service itself.
    const late = adders[CAP.max]!;
    const refusal = { name: 'VerificationMailCapped', status: 429, field: 'email', retryAfterSeconds: CAP.windowMs / 1000 };
    const WHY =
      'this address has been sent several verification e-mails recently, and we hold off for a while so that its mailbox cannot be flooded. Try again in 60 minutes.';
    // A refused add says that the address was not added, not only that no mail went; a refused resend keeps its words.
    const addRefusal = { ...refusal, message: `Not added, and no e-mail sent: ${WHY}` };
    const resendRefusal = { ...refusal, message: `No e-mail sent: ${WHY}` };
    await expect(other.emails.checkMailable(late.id, { add: victim })).rejects.toMatchObject(addRefusal);
    const refused = await h.services.emails.add(late.id, victim, NO_ORIGIN).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(VerificationMailCapped);
    expect(refused).toMatchObject(addRefusal);
    // Nothing of the refused add was kept: no address, no event, no mail.
    expect((await h.services.emails.list(late.id)).map((address) => address.email)).not.toContain(victim);
    const lateEvents = await h.db.selectFrom('events').select('tag').where('user_id', '=', late.id).execute();
    expect(lateEvents.map((event) => event.tag)).not.toContain(EVENT_TAGS.emailAdded);
    expect(await verifyMails(victim)).toBe(CAP.max);

    // An account that already added it cannot resend either; its link, mailed before the cap, still works.
    const first = adders[0]!;
    const added = (await h.services.emails.list(first.id)).find((address) => address.email === victim)!;
    await expect(h.services.emails.checkMailable(first.id, { resend: added.id })).rejects.toMatchObject(resendRefusal);
    await expect(other.emails.resend(first.id, added.id, NO_ORIGIN)).rejects.toMatchObject(resendRefusal);
    expect((await h.services.emails.list(first.id)).find((address) => address.id === added.id)!.verifySentAt).toBe(added.verifySentAt);
    const [firstMail] = await readOutbox(h.services, { to: victim, kind: 'verify-email' });
    const token = new URL(/https?:\/\/\S+\/account\/verify-email\/\?token=\S+/.exec(firstMail!.text)![0]).searchParams.get('token');
    expect(await h.services.emails.verify(token, first.id, NO_ORIGIN)).toMatchObject({ ok: true, email: victim });
  });

  it('the counters table never holds the address, nor a plain hash of it: an HMAC under the server key', async () => {
    const victim = victimAddress();
    await register(h.services, victim);
    const keys = (await h.db.selectFrom('rate_limits').select('key').execute()).map((row) => row.key);
    const recipientKeys = keys.filter((key) => key.startsWith('request:verification-resend:recipient:'));
    expect(recipientKeys.length).toBeGreaterThan(0);
    for (const key of recipientKeys) expect(key).toMatch(/^request:verification-resend:recipient:[A-Za-z0-9_-]{43}$/);
    const local = victim.slice(0, victim.indexOf('@'));
    const plainHashes = ['hex', 'base64url'].map((encoding) =>
      createHash('sha256')
        .update(mailboxKey(victim))
        .digest(encoding as 'hex' | 'base64url'),
    );
    for (const key of keys) {
      expect(key).not.toContain(local);
      for (const hash of plainHashes) expect(key).not.toContain(hash);
    }
    // The digest depends on the server's secret: another key counts the same mailbox under another key.
    await createVerificationMailCap(randomBytes(32), CAP).take(h.db, victim, h.clock());
    const after = (await h.db.selectFrom('rate_limits').select('key').where('key', 'like', 'request:verification-resend:recipient:%').execute()).length;
    expect(after).toBe(recipientKeys.length + 1);
  });

  it('windows are purged with the other verification-mail counters once they end', async () => {
    const victim = victimAddress();
    await register(h.services, victim);
    const count = async () =>
      (await h.db.selectFrom('rate_limits').select('key').where('key', 'like', 'request:verification-resend:recipient:%').execute()).length;
    expect(await count()).toBeGreaterThan(0);
    // A request limit taken long after every window ended purges them (request-limits.ts owns the prefix).
    h.clock.advance(2 * CAP.windowMs);
    // The purger runs at most once a minute per instance, and this instance's last run was at an earlier time.
    await h.services.requestLimits.take('verification-resend', { ip: '203.0.113.200' });
    expect(await count()).toBe(0);
  });
});

describe('the test configuration lifts the cap', () => {
  it('so suites that register many accounts with one address still get every link', async () => {
    const h = await createServiceHarness('sqlite');
    try {
      for (let i = 0; i < CAP.max + 2; i++) await h.services.accounts.register({ username: uniqueName('lift'), email: 'same@example.org', password: PASSWORD });
      expect((await readOutbox(h.services, { to: 'same@example.org', kind: 'verify-email' })).length).toBe(CAP.max + 2);
    } finally {
      await h.close();
    }
  });
});
