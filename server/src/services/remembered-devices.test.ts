import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { StatementCounter } from '../testing/statement-counter.js';
import { createEvents, EVENT_TAGS, type EventFollowUp, NO_ORIGIN } from './events.js';
import { createServices } from './index.js';
import { createRememberedDevices, REMEMBER_DEVICE_MS } from './remembered-devices.js';

// QA (sessions and remembered devices): the cookie that skips the second factor, attacked as a stolen or
// edited cookie would be. Each refusal here is also a refusal to count the browser as its own place for
// the password limits (`deviceId`).
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a different long passphrase 61';
let counter = 0;
const uniqueName = () => `dev${Date.now().toString(36)}${(counter++).toString(36)}`;
const PHONE = { ip: '198.51.100.9', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) Version/17.2 Mobile/15E148 Safari/604.1' };

describe.each(DIALECTS)('remembered devices on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });
  const newUser = () => h.services.accounts.register({ username: uniqueName(), email: 'someone@example.org', password: PASSWORD });
  const reread = async (userId: string) => (await h.services.accounts.findById(userId))!;

  it('a cookie counts only as exactly the signed body and its signature, for its own account', async () => {
    const user = await newUser();
    const other = await newUser();
    const cookie = await h.services.rememberedDevices.issue(user, PHONE);
    const theirs = await h.services.rememberedDevices.issue(other, PHONE);
    const [body, mac] = cookie.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    const edited = (change: Record<string, unknown>) => `${Buffer.from(JSON.stringify({ ...payload, ...change })).toString('base64url')}.${mac}`;
    const refused = {
      'a tail after the signature': `${cookie}.anything`, // accepted before the fix
      'an empty tail': `${cookie}.`,
      'a changed signature': `${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
      'no signature': body,
      'a later expiry under the old signature': edited({ x: (payload.x as number) + REMEMBER_DEVICE_MS }),
      'another account under the old signature': edited({ u: other.id }),
      "another account's own cookie": theirs,
      'an over-long value': `${cookie}${'A'.repeat(600)}`,
    };
    for (const [what, value] of Object.entries(refused)) {
      expect({ what, remembered: await h.services.rememberedDevices.isRemembered(value, user) }).toEqual({ what, remembered: false });
      expect({ what, place: h.services.rememberedDevices.deviceId(value, user) }).toEqual({ what, place: null });
    }
    expect(await h.services.rememberedDevices.isRemembered(cookie, user)).toBe(true);
    expect(await h.services.rememberedDevices.isRemembered(theirs, other)).toBe(true);
  });

  it('"Forget remembered devices" moves the epoch and records its event together, or does neither', async () => {
    const user = await newUser();
    const cookie = await h.services.rememberedDevices.issue(user, PHONE);
    // The event's insert fails (a fault injected in the database): the devices must stay as they were, not be
    // forgotten with nothing in the history to say so.
    const failing = sql.lit(EVENT_TAGS.rememberedDevicesForgotten);
    if (dialect === 'sqlite') {
      await sql`create temp trigger refuse_forget before insert on events when new.tag = ${failing} begin select raise(abort, 'injected'); end`.execute(h.db);
    } else {
      await sql`create or replace function refuse_forget() returns trigger language plpgsql as $$ begin raise exception 'injected'; end $$`.execute(h.db);
      await sql`create trigger refuse_forget before insert on events for each row when (new.tag = ${failing}) execute function refuse_forget()`.execute(h.db);
    }
    try {
      await expect(h.services.rememberedDevices.forgetAll(user, PHONE)).rejects.toThrow(/injected/);
    } finally {
      await sql`drop trigger refuse_forget${dialect === 'sqlite' ? sql`` : sql` on events`}`.execute(h.db);
    }
    expect((await reread(user.id)).security_epoch).toBe(user.security_epoch);
    expect(await h.services.rememberedDevices.isRemembered(cookie, await reread(user.id))).toBe(true);

    await h.services.rememberedDevices.forgetAll(user, PHONE);
    const after = await reread(user.id);
    expect(after.security_epoch).toBe(user.security_epoch + 1);
    expect(await h.services.rememberedDevices.isRemembered(cookie, after)).toBe(false);
    expect((await h.services.events.list(user.id)).filter((event) => event.tag === EVENT_TAGS.rememberedDevicesForgotten)).toHaveLength(1);
  });

  // The events were recorded with `createEvents(trx, now)`, which has no follow-up: a notice mail added for one
  // of these tags (services/mail/security-notices.ts) would never have been queued, without a word. They go
  // through the service's events bound to the transaction, as every other service's do.
  it("records its events through the events it is given, so a tag's follow-up runs, in the change's transaction", async () => {
    const TAGS: readonly string[] = [EVENT_TAGS.deviceRemembered, EVENT_TAGS.deviceForgotten, EVENT_TAGS.rememberedDevicesForgotten];
    const reached: { tag: string; inTransaction: boolean }[] = [];
    let refuse: string | null = null;
    const followUp: EventFollowUp = {
      handles: (tag) => TAGS.includes(tag),
      async run(trx, event) {
        reached.push({ tag: event.tag, inTransaction: trx.isTransaction });
        if (event.tag === refuse) throw new Error('follow-up failed');
      },
    };
    const devices = createRememberedDevices(h.db, h.services.keys['remember-device'], h.clock, createEvents(h.db, h.clock, followUp));
    const user = await newUser();
    const cookie = await devices.issue(user, PHONE);
    const [listed] = await devices.list(user, cookie);
    expect(await devices.forget(user, listed!.id, PHONE)).toBe(true);
    await devices.issue(user, PHONE);
    await devices.forgetAll(user, PHONE);
    expect(reached).toEqual(
      [EVENT_TAGS.deviceRemembered, EVENT_TAGS.deviceForgotten, EVENT_TAGS.deviceRemembered, EVENT_TAGS.rememberedDevicesForgotten].map((tag) => ({
        tag,
        inTransaction: true,
      })),
    );
    // A follow-up that fails undoes the change it follows: no device remembered, none forgotten.
    const later = await reread(user.id);
    refuse = EVENT_TAGS.deviceRemembered;
    await expect(devices.issue(later, PHONE)).rejects.toThrow(/follow-up failed/);
    expect(await devices.list(later)).toEqual([]);
    refuse = null;
    const kept = await devices.issue(later, PHONE);
    refuse = EVENT_TAGS.rememberedDevicesForgotten;
    await expect(devices.forgetAll(later, PHONE)).rejects.toThrow(/follow-up failed/);
    expect((await reread(user.id)).security_epoch).toBe(later.security_epoch);
    expect(await devices.isRemembered(kept, later)).toBe(true);
  });

  it('a cookie stops skipping the second factor after its 30 days, and drops out of the list', async () => {
    const user = await newUser();
    const cookie = await h.services.rememberedDevices.issue(user, PHONE);
    h.clock.advance(REMEMBER_DEVICE_MS - 60_000);
    expect(await h.services.rememberedDevices.isRemembered(cookie, user)).toBe(true);
    expect(await h.services.rememberedDevices.list(user)).toHaveLength(1);
    h.clock.advance(60_000);
    expect(await h.services.rememberedDevices.isRemembered(cookie, user)).toBe(false);
    expect(await h.services.rememberedDevices.list(user)).toEqual([]);
  });

  // The account page names each remembered device by its browser and the address of the login that
  // remembered it (two devices of one browser type looked alike, and a User-Agent is the client's to
  // choose). The address is read with the list, in its one statement: a lookup per device would grow with
  // the number of devices.
  it('lists each device with the address of the event that remembered it, in one statement however many there are', async () => {
    const counter = new StatementCounter();
    const counted = createServices(h.db.withPlugin(counter), h.config, { now: h.clock });
    const user = await newUser();
    const stranger = await newUser();
    const remember = async (userAgent: string, ip: string | null) => {
      await h.services.rememberedDevices.issue(user, { ip, userAgent });
      h.clock.advance(1000);
      const row = await h.db
        .selectFrom('remembered_devices')
        .selectAll()
        .where('user_id', '=', user.id)
        .where('user_agent', '=', userAgent)
        .executeTakeFirstOrThrow();
      return { id: row.id, eventId: Number(row.event_id) };
    };
    const laptop = await remember('laptop', '203.0.113.7');
    const phone = await remember('phone', '2001:db8::7');
    const gone = await remember('gone', '198.51.100.1');
    await h.db.deleteFrom('events').where('id', '=', gone.eventId).execute();
    const noAddress = await remember('no address', null);
    const noEvent = await remember('no event', '198.51.100.2');
    await h.db.updateTable('remembered_devices').set({ event_id: null }).where('id', '=', noEvent.id).execute();
    // An event id of another account's event (never written so; the join must not show its address).
    const foreign = await remember('foreign', '198.51.100.3');
    const theirs = await h.services.events.record({ userId: stranger.id, tag: EVENT_TAGS.deviceRemembered, origin: { ip: '192.0.2.99', userAgent: 'x' } });
    await h.db.updateTable('remembered_devices').set({ event_id: theirs }).where('id', '=', foreign.id).execute();

    const before = counter.count;
    const listed = await counted.rememberedDevices.list(user);
    expect(counter.count - before).toBe(1);
    expect(listed.map((device) => [device.id, device.userAgent, device.address])).toEqual([
      [foreign.id, 'foreign', null],
      [noEvent.id, 'no event', null],
      [noAddress.id, 'no address', null],
      [gone.id, 'gone', null],
      [phone.id, 'phone', '2001:db8::7'],
      [laptop.id, 'laptop', '203.0.113.7'],
    ]);
    // Still the whole device, as before the join (the page reads its times and event id).
    expect(listed.at(-1)).toMatchObject({ id: laptop.id, eventId: laptop.eventId, current: false, address: '203.0.113.7' });
    expect(typeof listed.at(-1)!.createdAt).toBe('number');
  });

  it('a cookie dies with a password change or reset, and with the app removed and added again', async () => {
    const changed = await newUser();
    const changedCookie = await h.services.rememberedDevices.issue(changed, PHONE);
    await h.services.passwordChanges.setPassword(changed.id, NEW_PASSWORD, { reason: 'change' });
    expect(await h.services.rememberedDevices.isRemembered(changedCookie, await reread(changed.id))).toBe(false);

    const reset = await newUser();
    const resetCookie = await h.services.rememberedDevices.issue(reset, PHONE);
    await h.services.passwordChanges.setPassword(reset.id, NEW_PASSWORD, { reason: 'reset' });
    expect(await h.services.rememberedDevices.isRemembered(resetCookie, await reread(reset.id))).toBe(false);

    const twoFactor = await newUser();
    await h.services.totp.enable(twoFactor.id, h.services.totp.generateSecret());
    const appCookie = await h.services.rememberedDevices.issue(await reread(twoFactor.id), PHONE);
    await h.services.totp.disable(twoFactor.id, NO_ORIGIN, { lastFactorConfirmed: true });
    await h.services.totp.enable(twoFactor.id, h.services.totp.generateSecret());
    const now = await reread(twoFactor.id);
    expect(await h.services.rememberedDevices.isRemembered(appCookie, now)).toBe(false);
    expect(await h.services.rememberedDevices.list(now)).toEqual([]);
  });
});
