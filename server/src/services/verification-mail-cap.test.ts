import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_LIMITS } from '../config.js';
import type { Database } from '../db/schema.js';
import { readOutbox } from '../testing/read-outbox.js';
import { createServiceHarness, DIALECTS, type ServiceHarness, useTwoInstances } from '../testing/service-harness.js';
import { uniqueName } from '../testing/unique-name.js';
import { emailKey } from './email-address.js';
import { EVENT_TAGS, NO_ORIGIN, type RequestOrigin } from './events.js';
import type { Services } from './index.js';
import { createVerificationMailCap, mailboxKey, VerificationMailCapped } from './verification-mail-cap.js';

const PASSWORD = 'correct horse battery staple';
const CAP = DEFAULT_REQUEST_LIMITS['verification-resend'].perRecipient!;

/** A client on network block `n` (a /24 of its own). */
const network = (n: number, host = 7): RequestOrigin => ({ ip: `10.${Math.floor(n / 256)}.${n % 256}.${host}`, userAgent: null });

describe('mailboxKey', () => {
  it('is the comparison key without a +tag, so tagged spellings of one mailbox share its allowance', () => {
    expect(mailboxKey(' Victim+news@Example.ORG ')).toBe('victim@example.org');
    expect(mailboxKey('victim+a+b@example.org')).toBe('victim@example.org');
    expect(mailboxKey('victim@exämple.org')).toBe(emailKey('victim@xn--exmple-cua.org'));
    // Only a tag after a local part is dropped: "+x@…" has no untagged mailbox to fold into.
    expect(mailboxKey('+x@example.org')).toBe('+x@example.org');
  });

  it('folds Gmail’s documented rules: dots in the local part ignored, googlemail.com is gmail.com', () => {
    for (const spelling of ['victim@gmail.com', 'v.i.c.t.i.m@gmail.com', 'Vic.Tim+news@GoogleMail.com', 'victim@googlemail.com', '.victim.@gmail.com']) {
      expect(mailboxKey(spelling), spelling).toBe('victim@gmail.com');
    }
    // Other providers keep their dots: two people may own `a.b@` and `ab@` there.
    expect(mailboxKey('vic.tim@example.org')).toBe('vic.tim@example.org');
    expect(mailboxKey('vic.tim@gmail.com.example.org')).toBe('vic.tim@gmail.com.example.org');
    // Dots only: nothing to fold into.
    expect(mailboxKey('...@gmail.com')).toBe('...@gmail.com');
  });
});

describe('createVerificationMailCap without a rule', () => {
  it('caps nothing (a configuration without perRecipient)', async () => {
    const cap = createVerificationMailCap(Buffer.alloc(32), undefined);
    // Never touches the database: no executor is needed to say yes.
    const none = undefined as unknown as Kysely<Database>;
    expect(await cap.take(none, 'victim@example.org', '192.0.2.1', 0)).toEqual({ allowed: true });
    expect(await cap.wait(none, 'victim@example.org', null, 0)).toBe(0);
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
  const register = (services: Services, email: string, from: RequestOrigin) =>
    services.accounts.register({ username: uniqueName('cap'), email, password: PASSWORD }, from);
  const lastMailSent = async (userId: string) => (await h.services.emails.list(userId))[0]!.verifySentAt;
  const instance = (i: number) => (i % 2 === 0 ? h.services : other);

  it('registrations by many accounts from many networks, alternating instances: the first mails go, the rest make the account without a link', async () => {
    const victim = victimAddress();
    // Other spellings of the same mailbox count as the same recipient (case, a +tag).
    const spellings = [victim, victim.toUpperCase(), victim.replace('@', '+a@'), victim.replace('@', '+b@')];
    const users = [];
    for (let i = 0; i < CAP.max + 3; i++) users.push(await register(instance(i), spellings[i % spellings.length]!, network(i)));
    // Every account was made: registering never depends on who else used the address (no enumeration).
    expect(users).toHaveLength(CAP.max + 3);
    const addresses = await Promise.all(users.map(async (user) => (await h.services.emails.list(user.id))[0]!));
    let mailed = 0;
    for (const stored of new Set(addresses.map((address) => address.email))) mailed += await verifyMails(stored);
    expect(mailed).toBe(CAP.max);
    expect(addresses.filter((address) => address.verifySentAt !== null)).toHaveLength(CAP.max);
    // The accounts past the cap hold their address unverified and without a link, and are told how long to wait.
    for (const address of addresses.slice(CAP.max)) expect(address).toMatchObject({ verified: false, verifySentAt: null });
    // From any network (one that sent nothing yet too): the shared cap is full.
    for (const services of [h.services, other]) expect(await services.emails.verificationMailWait(victim, network(900).ip)).toBe(CAP.windowMs);
    // A different mailbox is not affected.
    expect(await h.services.emails.verificationMailWait(victimAddress(), network(900).ip)).toBe(0);

    // Once the window ends, "Resend link" mails a link to the account that got none.
    h.clock.advance(CAP.windowMs);
    const late = users.at(-1)!;
    const lateAddress = addresses.at(-1)!;
    expect(await other.emails.verificationMailWait(victim, network(900).ip)).toBe(0);
    await h.services.emails.resend(late.id, lateAddress.id, network(900));
    expect((await h.services.emails.list(late.id))[0]!.verifySentAt).toBe(h.clock());
  });

  it('a burst of registrations from many networks over both instances at once sends exactly the shared cap', async () => {
    const victim = victimAddress();
    const users = await Promise.all(Array.from({ length: 3 * CAP.max }, (_, i) => register(instance(i), victim, network(i))));
    expect(users).toHaveLength(3 * CAP.max);
    expect(await verifyMails(victim)).toBe(CAP.max);
  });

  it('"Add" and "Resend link" from other accounts are capped too: refused with 429, nothing changes, the older link still works', async () => {
    const victim = victimAddress();
    const adders = [];
    for (let i = 0; i < CAP.max + 1; i++) adders.push(await register(instance(i), `${uniqueName('own')}@example.org`, network(i)));
    // The first CAP accounts add the victim's address from their networks, alternating instances: each add mails a link.
    for (let i = 0; i < CAP.max; i++) await instance(i).emails.add(adders[i]!.id, victim, network(i));
    expect(await verifyMails(victim)).toBe(CAP.max);

    // The next account: refused before anything is counted (the route's pre-check) and in the service itself.
    const late = adders[CAP.max]!;
    const refusal = { name: 'VerificationMailCapped', status: 429, field: 'email', retryAfterSeconds: CAP.windowMs / 1000 };
    const WHY =
      'this address has been sent several verification e-mails recently, and we hold off for a while so that its mailbox cannot be flooded. Try again in 60 minutes.';
    // A refused add says that the address was not added, not only that no mail went; a refused resend keeps its words.
    const addRefusal = { ...refusal, message: `Not added, and no e-mail sent: ${WHY}` };
    const resendRefusal = { ...refusal, message: `No e-mail sent: ${WHY}` };
    await expect(other.emails.checkMailable(late.id, { add: victim }, network(CAP.max))).rejects.toMatchObject(addRefusal);
    const refused = await h.services.emails.add(late.id, victim, network(CAP.max)).catch((error: unknown) => error);
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
    await expect(h.services.emails.checkMailable(first.id, { resend: added.id }, network(0))).rejects.toMatchObject(resendRefusal);
    await expect(other.emails.resend(first.id, added.id, network(0))).rejects.toMatchObject(resendRefusal);
    expect((await h.services.emails.list(first.id)).find((address) => address.id === added.id)!.verifySentAt).toBe(added.verifySentAt);
    const [firstMail] = await readOutbox(h.services, { to: victim, kind: 'verify-email' });
    const token = new URL(/https?:\/\/\S+\/account\/verify-email\/\?token=\S+/.exec(firstMail!.text)![0]).searchParams.get('token');
    expect(await h.services.emails.verify(token, first.id, NO_ORIGIN)).toMatchObject({ ok: true, email: victim });
  });

  it('one network cannot starve the owner (review of the cap): its registrations and two accounts resending fill only its own allowance', async () => {
    const victim = victimAddress();
    const attacker = network(500, 10);
    // Accounts on the attacker's network (other hosts of its /24, both instances) register the victim's address,
    // more than a whole shared cap's worth: before, 5 did it, and the owner got no link all hour.
    const squatters = [];
    for (let i = 0; i < CAP.max + 2; i++) squatters.push(await register(instance(i), victim, network(500, 10 + i)));
    // Two of them resend within their own 3 an hour (the route's per-account limit), alternating instances.
    for (const squatter of squatters.slice(0, 2)) {
      const [address] = await h.services.emails.list(squatter.id);
      for (let i = 0; i < 3; i++)
        await instance(i)
          .emails.resend(squatter.id, address!.id, attacker)
          .catch(() => undefined);
    }
    const attackerMails = await verifyMails(victim);
    const attackerWait = await h.services.emails.verificationMailWait(victim, attacker.ip);

    // The owner, on another network, registers and gets a link, and "Resend link" works too.
    const owner = network(501);
    expect(await other.emails.verificationMailWait(victim, owner.ip)).toBe(0);
    const account = await register(other, victim, owner);
    expect(await lastMailSent(account.id)).toBe(h.clock());
    const [address] = await h.services.emails.list(account.id);
    await expect(h.services.emails.checkMailable(account.id, { resend: address!.id }, owner)).resolves.toBeUndefined();
    await h.services.emails.resend(account.id, address!.id, owner);
    // The network's allowance went, no more.
    expect(attackerMails).toBe(CAP.perNetworkMax);
    expect(attackerWait).toBe(CAP.windowMs);
    expect(await verifyMails(victim)).toBe(CAP.perNetworkMax + 2);
  });

  it('IPv6 clients are one network per /64; Gmail spellings of one mailbox share its allowances', async () => {
    const local = uniqueName('victim');
    const spellings = [
      `${local}@gmail.com`,
      `${local.slice(0, 3)}.${local.slice(3)}@googlemail.com`,
      `${local.toUpperCase()}+x@gmail.com`,
      `${local}@googlemail.com`,
    ];
    // Four hosts of one /64 (a single subscriber rotating addresses).
    const hosts = ['2001:db8:5:6::1', '2001:db8:5:6::2', '2001:db8:5:6:aaaa::3', '2001:db8:5:6:ffff:ffff:ffff:ffff'];
    const users = [];
    for (let i = 0; i < hosts.length; i++) users.push(await register(instance(i), spellings[i]!, { ip: hosts[i]!, userAgent: null }));
    const sent = await Promise.all(users.map((user) => lastMailSent(user.id)));
    expect(sent.filter((time) => time !== null)).toHaveLength(CAP.perNetworkMax);
    // The next /64 is another network.
    const next = await register(h.services, spellings[1]!, { ip: '2001:db8:5:7::1', userAgent: null });
    expect(await lastMailSent(next.id)).toBe(h.clock());
  });

  it('requests without a client address (admin CLI, seeding) have their own allowance, and strangers filling the shared cap do not block them', async () => {
    const victim = victimAddress();
    for (let i = 0; i < CAP.max; i++) await register(instance(i), victim, network(i));
    // The shared cap is full for every network …
    expect(await h.services.emails.verificationMailWait(victim, network(900).ip)).toBe(CAP.windowMs);
    // … but not for the operator, who may still send up to the allowance of requests without an address.
    expect(await h.services.emails.verificationMailWait(victim)).toBe(0);
    const operator = [];
    for (let i = 0; i < CAP.perNetworkMax + 1; i++) operator.push(await register(instance(i), victim, NO_ORIGIN));
    const sent = await Promise.all(operator.map((user) => lastMailSent(user.id)));
    expect(sent.slice(0, CAP.perNetworkMax).every((time) => time === h.clock())).toBe(true);
    expect(sent.at(-1)).toBeNull();
    expect(await verifyMails(victim)).toBe(CAP.max + CAP.perNetworkMax);
    expect(await other.emails.verificationMailWait(victim, null)).toBe(CAP.windowMs);
  });

  it('the counters table never holds the address, nor a plain hash of it: an HMAC under the server key', async () => {
    const victim = victimAddress();
    await register(h.services, victim, network(0));
    const keys = (await h.db.selectFrom('rate_limits').select('key').execute()).map((row) => row.key);
    const recipientKeys = keys.filter((key) => key.startsWith('request:verification-resend:recipient'));
    expect(recipientKeys.length).toBeGreaterThan(0);
    // The mailbox's key and the (mailbox, network) key: neither holds the address or the network in the clear.
    for (const key of recipientKeys) expect(key).toMatch(/^request:verification-resend:recipient(-network)?:[A-Za-z0-9_-]{43}$/);
    for (const key of keys) expect(key).not.toContain(network(0).ip!.split('.').slice(0, 3).join('.'));
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
    await createVerificationMailCap(randomBytes(32), CAP).take(h.db, victim, network(0).ip, h.clock());
    const after = (await h.db.selectFrom('rate_limits').select('key').where('key', 'like', 'request:verification-resend:recipient%').execute()).length;
    expect(after).toBe(recipientKeys.length + 2);
  });

  it('windows are purged with the other verification-mail counters once they end', async () => {
    const victim = victimAddress();
    await register(h.services, victim, network(0));
    const count = async () =>
      (await h.db.selectFrom('rate_limits').select('key').where('key', 'like', 'request:verification-resend:recipient%').execute()).length;
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
