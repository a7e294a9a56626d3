import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_LIMITS, type RequestLimitConfig } from '../config.js';
import { createServiceHarness, DIALECTS, type ServiceHarness, useTwoInstances } from '../testing/service-harness.js';
import { uniqueName } from '../testing/unique-name.js';
import type { Services } from './index.js';
import { addressBlock } from './address-block.js';
import { hmac } from './keys.js';
import { createRequestLimits } from './request-limits.js';

const HOUR = 60 * 60_000;
let counter = 0;
/** A fresh documentation-range address per test, so tests never share counters. */
const freshIp = () => `203.0.${113 + Math.floor(counter / 250)}.${(counter++ % 250) + 1}`;

describe.each(DIALECTS)('request limits on %s', (dialect) => {
  let h: ServiceHarness;
  beforeAll(async () => {
    h = await createServiceHarness(dialect, { requestLimits: DEFAULT_REQUEST_LIMITS });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses a kind of request from one address past its limit, with when to come back, then forgets', async () => {
    const rule = DEFAULT_REQUEST_LIMITS.register.perAddress!;
    const ip = freshIp();
    for (let i = 0; i < rule.max; i++) expect(await h.services.requestLimits.take('register', { ip })).toEqual({ kind: 'allowed' });
    const refused = await h.services.requestLimits.take('register', { ip });
    expect(refused).toEqual({
      kind: 'blocked',
      status: 429,
      scope: 'address',
      retryAfterSeconds: rule.windowMs / 1000,
      message: 'Too many account registrations from your network. Try again in 60 minutes.',
    });
    // Another address, and another kind from the same address, are not affected.
    expect((await h.services.requestLimits.take('register', { ip: freshIp() })).kind).toBe('allowed');
    expect((await h.services.requestLimits.take('password-reset', { ip })).kind).toBe('allowed');
    h.clock.advance(rule.windowMs);
    expect((await h.services.requestLimits.take('register', { ip })).kind).toBe('allowed');
  });

  it('counts IPv6 clients per /64', async () => {
    const rule = DEFAULT_REQUEST_LIMITS.register.perAddress!;
    const prefix = `2001:db8:${(counter++).toString(16)}:1`;
    const verdicts = [];
    for (let i = 1; i <= rule.max + 1; i++) verdicts.push(await h.services.requestLimits.take('register', { ip: `${prefix}:${i.toString(16)}::${i}` }));
    expect(verdicts.slice(0, rule.max).every((verdict) => verdict.kind === 'allowed')).toBe(true);
    expect(verdicts.at(-1)).toMatchObject({ kind: 'blocked', scope: 'address' });
  });

  it('holds a global ceiling that no number of addresses gets past', async () => {
    const small: RequestLimitConfig = {
      ...DEFAULT_REQUEST_LIMITS,
      register: { perAddress: { max: 5, windowMs: HOUR }, everyone: { max: 12, windowMs: HOUR } },
    };
    // A fresh limiter over the same table: "everyone" is one counter per kind, shared with the other tests here.
    await h.db.deleteFrom('rate_limits').where('key', '=', 'request:register:everyone').execute();
    const limits = createRequestLimits(h.db, small, h.clock, h.services.keys['rate-limit-subject']);
    const verdicts = await Promise.all(Array.from({ length: 30 }, () => limits.take('register', { ip: freshIp() })));
    expect(verdicts.filter((verdict) => verdict.kind === 'allowed')).toHaveLength(12);
    expect(verdicts.find((verdict) => verdict.kind === 'blocked')).toMatchObject({
      scope: 'everyone',
      message: 'This index is receiving too many account registrations right now. Try again in 60 minutes.',
    });
  });

  /** Registrations limited to 5 an address and 12 in all, the hour's ceiling fresh; and an address to send too many. */
  async function fiveEachTwelveInAll() {
    const small: RequestLimitConfig = {
      ...DEFAULT_REQUEST_LIMITS,
      register: { perAddress: { max: 5, windowMs: HOUR }, everyone: { max: 12, windowMs: HOUR } },
    };
    await h.db.deleteFrom('rate_limits').where('key', '=', 'request:register:everyone').execute();
    return { limits: createRequestLimits(h.db, small, h.clock, h.services.keys['rate-limit-subject']), attacker: freshIp() };
  }

  it('one address over its own limit cannot spend the global ceiling for everyone else', async () => {
    const { limits, attacker } = await fiveEachTwelveInAll();
    // Refused after its 5th request, the address keeps sending (sequentially and in a burst).
    for (let i = 0; i < 20; i++) await limits.take('register', { ip: attacker });
    const burst = await Promise.all(Array.from({ length: 20 }, () => limits.take('register', { ip: attacker })));
    expect(burst.every((verdict) => verdict.kind === 'blocked' && verdict.scope === 'address')).toBe(true);
    // The index still takes the other 7 of the hour's 12, from anyone else.
    const others = await Promise.all(Array.from({ length: 10 }, () => limits.take('register', { ip: freshIp() })));
    expect(others.filter((verdict) => verdict.kind === 'allowed')).toHaveLength(7);
  });

  it('giveBack takes back what an allowed take counted (address, subject, everyone), in parallel, never below zero', async () => {
    const small: RequestLimitConfig = {
      ...DEFAULT_REQUEST_LIMITS,
      'verification-resend': { perAddress: { max: 5, windowMs: HOUR }, perSubject: { max: 2, windowMs: HOUR }, everyone: { max: 100, windowMs: HOUR } },
    };
    await h.db.deleteFrom('rate_limits').where('key', '=', 'request:verification-resend:everyone').execute();
    const limits = createRequestLimits(h.db, small, h.clock, h.services.keys['rate-limit-subject']);
    const who = { ip: freshIp(), subject: uniqueName('account') };
    const keys = [
      'request:verification-resend:everyone',
      `request:verification-resend:ip:${addressBlock(who.ip)}`,
      `request:verification-resend:subject:${hmac(h.services.keys['rate-limit-subject'], who.subject)}`,
    ];
    const counts = async () =>
      (await h.db.selectFrom('rate_limits').select(['key', 'failures']).where('key', 'in', keys).orderBy('key').execute()).map((row) => Number(row.failures));
    for (let i = 0; i < 2; i++) expect((await limits.take('verification-resend', who)).kind).toBe('allowed');
    expect((await limits.take('verification-resend', who)).kind).toBe('blocked');
    // Two refused requests given back at once (PostgreSQL runs them side by side), and more than was taken.
    await Promise.all([limits.giveBack('verification-resend', who), limits.giveBack('verification-resend', who)]);
    // The blocked take counted in its address and subject only; the everyone counter holds the two allowed ones.
    expect(await counts()).toEqual([0, 1, 1]);
    for (let i = 0; i < 3; i++) await limits.giveBack('verification-resend', who);
    expect(await counts()).toEqual([0, 0, 0]);
    // The subject's 2 are there again, no more.
    for (let i = 0; i < 2; i++) expect((await limits.take('verification-resend', who)).kind).toBe('allowed');
    expect(await limits.take('verification-resend', who)).toMatchObject({ kind: 'blocked', scope: 'subject' });
    // Given back for counters that are not there (purged): nothing below zero, a full allowance after.
    const fresh = { ip: freshIp(), subject: uniqueName('account') };
    await limits.giveBack('verification-resend', fresh);
    for (let i = 0; i < 2; i++) expect((await limits.take('verification-resend', fresh)).kind).toBe('allowed');
    expect(await limits.take('verification-resend', fresh)).toMatchObject({ kind: 'blocked', scope: 'subject' });
  });

  it('a burst from an address over its own limit, running while others ask, refuses none of them', async () => {
    const { limits, attacker } = await fiveEachTwelveInAll();
    for (let i = 0; i < 5; i++) expect((await limits.take('register', { ip: attacker })).kind).toBe('allowed');
    // 7 of the hour's 12 left. Counted in the ceiling and given back afterwards, the burst held it up while it
    // ran: on PostgreSQL the 7 others were refused, and their refusals stayed counted (the hour spent).
    const [burst, others] = await Promise.all([
      Promise.all(Array.from({ length: 100 }, () => limits.take('register', { ip: attacker }))),
      Promise.all(Array.from({ length: 7 }, () => limits.take('register', { ip: freshIp() }))),
    ]);
    expect(burst.every((verdict) => verdict.kind === 'blocked' && verdict.scope === 'address')).toBe(true);
    expect(others.map((verdict) => verdict.kind)).toEqual(Array(7).fill('allowed'));
  });

  it('limits per subject when a kind has that rule (one mailbox cannot be flooded from many addresses)', async () => {
    const rule = DEFAULT_REQUEST_LIMITS['password-reset'].perSubject!;
    const subject = `someone-${counter++}@example.org`;
    for (let i = 0; i < rule.max; i++) expect((await h.services.requestLimits.take('password-reset', { ip: freshIp(), subject })).kind).toBe('allowed');
    expect(await h.services.requestLimits.take('password-reset', { ip: freshIp(), subject })).toMatchObject({
      kind: 'blocked',
      scope: 'subject',
      message: 'Too many password-reset requests for this account. Try again in 60 minutes.',
    });
    // The subject is not stored as written.
    const keys = (await h.db.selectFrom('rate_limits').select('key').where('key', 'like', 'request:password-reset:subject:%').execute()).map((row) => row.key);
    expect(keys.some((key) => key.includes(subject))).toBe(false);
  });

  it('counts each of several subjects, and refuses when any of them is over (an address shared by accounts)', async () => {
    const rule = DEFAULT_REQUEST_LIMITS['password-reset'].perSubject!;
    const [a, b] = [`account:a-${counter++}`, `account:b-${counter++}`];
    // `a` spends its allowance alone; then any request naming `a` is refused, even together with a fresh `b` …
    for (let i = 0; i < rule.max; i++) expect((await h.services.requestLimits.take('password-reset', { ip: freshIp(), subject: a })).kind).toBe('allowed');
    expect(await h.services.requestLimits.take('password-reset', { ip: freshIp(), subject: [b, a] })).toMatchObject({ kind: 'blocked', scope: 'subject' });
    // … and that refused request still counted against `b` (counted first, whatever the outcome).
    for (let i = 1; i < rule.max; i++) expect((await h.services.requestLimits.take('password-reset', { ip: freshIp(), subject: b })).kind).toBe('allowed');
    expect((await h.services.requestLimits.take('password-reset', { ip: freshIp(), subject: b })).kind).toBe('blocked');
    // A subject named twice in one request is counted once.
    const c = `account:c-${counter++}`;
    for (let i = 0; i < rule.max; i++) expect((await h.services.requestLimits.take('password-reset', { ip: freshIp(), subject: [c, c] })).kind).toBe('allowed');
  });

  it('counts a burst of parallel requests in full', async () => {
    const rule = DEFAULT_REQUEST_LIMITS['verification-resend'].perAddress!;
    const ip = freshIp();
    const verdicts = await Promise.all(Array.from({ length: 3 * rule.max }, () => h.services.requestLimits.take('verification-resend', { ip })));
    expect(verdicts.filter((verdict) => verdict.kind === 'allowed')).toHaveLength(rule.max);
  });
});

describe.each(DIALECTS)('password-reset requests for an e-mail address, on %s, two server instances over one database', (dialect) => {
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

  it('counts the address under an HMAC keyed from the server secret, never the address or a plain hash of it; the limit holds over both', async () => {
    const rule = DEFAULT_REQUEST_LIMITS['password-reset'].perSubject!;
    const victim = `${uniqueName('victim')}@example.org`;
    const request = (i: number) =>
      (i % 2 === 0 ? h.services : other).passwordResets.request(i % 3 === 0 ? victim.toUpperCase() : victim, { ip: freshIp(), userAgent: null });
    for (let i = 0; i < rule.max; i++) expect((await request(i)).kind).toBe('allowed');
    expect(await request(rule.max)).toMatchObject({ kind: 'blocked', scope: 'subject' });

    const keys = (await h.db.selectFrom('rate_limits').select('key').execute()).map((row) => row.key);
    // Before: `request:password-reset:subject:` + base64url(SHA-256("name:" + address)), reversed by hashing guesses.
    const typed = `name:${victim}`;
    const plainHashes = [typed, victim].flatMap((text) =>
      (['hex', 'base64url'] as const).map((encoding) => createHash('sha256').update(text).digest(encoding)),
    );
    for (const key of keys) {
      expect(key).not.toContain(victim.slice(0, victim.indexOf('@')));
      for (const hash of plainHashes) expect(key).not.toContain(hash);
    }
    // One counter for the name, whichever instance or case it came in by: the HMAC under the purpose key.
    const key = `request:password-reset:subject:${hmac(h.services.keys['rate-limit-subject'], typed)}`;
    expect(await h.db.selectFrom('rate_limits').select('failures').where('key', '=', key).executeTakeFirst()).toEqual({ failures: rule.max + 1 });
    // The digest depends on the server's secret: under another key the same name is a counter of its own.
    const elsewhere = createRequestLimits(h.db, DEFAULT_REQUEST_LIMITS, h.clock, randomBytes(32));
    expect((await elsewhere.take('password-reset', { ip: freshIp(), subject: typed })).kind).toBe('allowed');
  });
});
