import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DIALECTS, secondInstance, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { canonicalUsername } from './accounts.js';
import { hmac } from './keys.js';

let counter = 0;
const account = () => `acct${Date.now().toString(36)}${(counter++).toString(36)}`;

// How password failures combine (issue 14 point 2): per account and place, per address, and per account
// from all places — the last refusing only places that already failed for the account.
describe.each(DIALECTS)('password limits per place on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  it('a distributed attack gets one try per new address plus the account-wide budget per window; the owner elsewhere is never refused', async () => {
    const name = account();
    const wide = h.config.rateLimits.passwordPerAccountAllPlaces;
    const addresses = Array.from({ length: 40 }, (_, i) => `198.18.${counter % 200}.${i + 1}`);
    const allowed = async (ips: string[]) =>
      (await Promise.all(ips.map((ip) => h.services.rateLimits.attempt('password', { account: name, ip })))).filter((verdict) => !verdict.blocked).length;
    // 40 concurrent wrong passwords from 40 new addresses: each new place gets its try.
    expect(await allowed(addresses)).toBe(addresses.length);
    // The budget is spent: every address that failed is refused for the rest of the window…
    expect(await allowed(addresses.slice(0, 20))).toBe(0);
    // …and in the next windows they share the budget: `wide.max` tries in all, not one each.
    h.clock.advance(wide.windowMs);
    expect(await allowed(addresses)).toBe(wide.max);
    h.clock.advance(wide.windowMs);
    expect(await allowed(addresses)).toBe(wide.max);
    // A new address still gets its one try, and so does the owner from a network the attack does not
    // use, and on a remembered device on an attacking address.
    expect(await allowed([`198.19.${counter % 200}.1`])).toBe(1);
    expect((await h.services.rateLimits.attempt('password', { account: name, ip: '192.0.2.99' })).blocked).toBe(false);
    const device = `owner-device-${counter}`;
    expect((await h.services.rateLimits.attempt('password', { account: name, ip: addresses[0]!, device })).blocked).toBe(false);
    // The device id is a bearer secret (remembered_devices keeps only its digest): no counter key holds it.
    const keys = (await h.db.selectFrom('rate_limits').select('key').where('key', 'like', 'password:place:%:device:%').execute()).map((row) => row.key);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => key.includes(device))).toEqual([]);
  });

  it('one address is locked after the per-place limit for that account only; a success there starts it afresh', async () => {
    const name = account();
    const rule = h.config.rateLimits.passwordPerAccount;
    const ip = `203.0.113.${(counter % 200) + 1}`;
    for (let i = 0; i < rule.max; i++) expect((await h.services.rateLimits.attempt('password', { account: name, ip })).blocked).toBe(false);
    expect(await h.services.rateLimits.attempt('password', { account: name, ip })).toMatchObject({ blocked: true, reason: 'account' });
    expect((await h.services.rateLimits.attempt('password', { account: account(), ip })).blocked).toBe(false);
    h.clock.advance(rule.windowMs);
    const owner = { account: name, ip };
    // The budget and this place's memory still say "failed here", but the window passed: one try.
    const attempt = await h.services.rateLimits.attempt('password', owner);
    expect(attempt.blocked).toBe(false);
    await h.services.rateLimits.succeeded('password', owner);
    // After the right password this place is not "known to fail" any more.
    const stored = hmac(h.services.keys['rate-limit-subject'], name);
    const keys = await h.db
      .selectFrom('rate_limits')
      .select(['key', 'failures'])
      .where('key', 'in', [`password:place:${stored}:${ip}`, `password:seen:${stored}:${ip}`])
      .orderBy('key')
      .execute();
    expect(keys.map((row) => row.failures)).toEqual([0, 0]);
  });

  it('an e-mail address typed as the login name is counted under an HMAC, never as typed nor as a plain hash; the limit holds over two instances', async () => {
    // The login form takes a username, but people type their address there (or their password).
    const typed = ` Owner.${account()}@Example.org`;
    const name = canonicalUsername(typed);
    const rule = h.config.rateLimits.passwordPerAccount;
    const ip = `192.0.2.${(counter % 200) + 1}`;
    const other = secondInstance(h);
    try {
      const instance = (i: number) => (i % 2 === 0 ? h.services : other.services);
      for (let i = 0; i < rule.max; i++) expect((await instance(i).rateLimits.attempt('password', { account: name, ip })).blocked).toBe(false);
      expect(await instance(rule.max).rateLimits.attempt('password', { account: name, ip })).toMatchObject({ blocked: true, reason: 'account' });
    } finally {
      await other.close();
    }
    const keys = (await h.db.selectFrom('rate_limits').select('key').where('key', 'like', 'password:%').execute()).map((row) => row.key);
    const plainHashes = (['hex', 'base64url'] as const).map((encoding) => createHash('sha256').update(name).digest(encoding));
    for (const key of keys) {
      expect(key).not.toContain(name.slice(0, name.indexOf('@')));
      for (const hash of plainHashes) expect(key).not.toContain(hash);
    }
    expect(keys).toContain(`password:account:${hmac(h.services.keys['rate-limit-subject'], name)}`);
  });

  it('re-authentication is counted per session, never per account or address', async () => {
    const session = `session-${account()}`;
    const rule = h.config.rateLimits.reauthenticatePerSession;
    for (let i = 0; i < rule.max; i++)
      expect((await h.services.rateLimits.attempt('reauthenticate', { account: session, ip: '192.0.2.5' })).blocked).toBe(false);
    expect((await h.services.rateLimits.attempt('reauthenticate', { account: session, ip: '192.0.2.6' })).blocked).toBe(true);
    expect((await h.services.rateLimits.attempt('reauthenticate', { account: `other-${session}`, ip: '192.0.2.5' })).blocked).toBe(false);
  });
});
