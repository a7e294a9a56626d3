import { describe, expect, it } from 'vitest';
import { softAuthenticator } from '@latchkey/test/soft-authenticator';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { StatementCounter } from '../testing/statement-counter.js';
import { EVENT_TAGS, HISTORY_PAGE_SIZE, NO_ORIGIN } from './events.js';
import { createServices } from './index.js';
import { WebauthnRefusal } from './webauthn.js';

// Issue 17 item 11: sessions and remembered devices listed and ended one by one, keys renamed,
// the security history paged.
const PASSWORD = 'correct horse battery staple';
let counter = 0;
const uniqueName = () => `act${Date.now().toString(36)}${(counter++).toString(36)}`;
const FIREFOX = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0' };
const PHONE = {
  ip: '198.51.100.9',
  userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
};

describe.each(DIALECTS)('account activity on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });
  const newUser = () => h.services.accounts.register({ username: uniqueName(), email: 'someone@example.org', password: PASSWORD });

  it('sessions remember their browser and login event; one can be ended without touching the others or another user', async () => {
    const user = await newUser();
    const other = await newUser();
    const loginEvent = await h.services.events.record({ userId: user.id, tag: EVENT_TAGS.loginSuccess, origin: FIREFOX, details: { method: 'totp' } });
    const firefox = await h.services.sessions.create(user.id, { userAgent: FIREFOX.userAgent, eventId: loginEvent });
    h.clock.advance(2 * 60_000);
    const phone = await h.services.sessions.create(user.id, { userAgent: PHONE.userAgent });
    const theirs = await h.services.sessions.create(other.id);

    const listed = await h.services.sessions.listForUser(user.id);
    expect(listed.map((row) => row.id)).toEqual([phone.session.id, firefox.session.id]); // most recently used first
    expect(listed[1]).toMatchObject({ user_agent: FIREFOX.userAgent, event_id: loginEvent });

    expect(await h.services.sessions.endForUser(user.id, theirs.session.id, PHONE)).toBe(false); // not theirs to end
    expect(await h.services.sessions.load(theirs.token)).not.toBeNull();
    expect(await h.services.sessions.endForUser(user.id, firefox.session.id, PHONE)).toBe(true);
    expect(await h.services.sessions.endForUser(user.id, firefox.session.id, PHONE)).toBe(false); // already ended
    expect(await h.services.sessions.load(firefox.token)).toBeNull();
    expect(await h.services.sessions.load(phone.token)).not.toBeNull();
    // One event, for the one ending that happened, naming the browser of the session that ended; none for the others.
    const ended = (await h.services.events.list(user.id)).filter((event) => event.tag === EVENT_TAGS.sessionEnded);
    expect(ended).toMatchObject([{ ip: PHONE.ip, details: { userAgent: FIREFOX.userAgent } }]);
    expect((await h.services.events.list(other.id)).map((event) => event.tag)).not.toContain(EVENT_TAGS.sessionEnded);
  });

  it('idle sessions drop out of the list', async () => {
    const user = await newUser();
    await h.services.sessions.create(user.id);
    h.clock.advance(31 * 60_000);
    expect(await h.services.sessions.listForUser(user.id)).toEqual([]);
  });

  it('a remembered device has a row and an event; forgetting one leaves the others remembered', async () => {
    const user = await newUser();
    const laptop = await h.services.rememberedDevices.issue(user, FIREFOX);
    h.clock.advance(60_000);
    const phone = await h.services.rememberedDevices.issue(user, PHONE);
    const devices = await h.services.rememberedDevices.list(user, phone);
    expect(devices.map((device) => [device.userAgent, device.current])).toEqual([
      [PHONE.userAgent, true],
      [FIREFOX.userAgent, false],
    ]);
    const tags = (await h.services.events.list(user.id)).map((event) => event.tag);
    expect(tags.filter((tag) => tag === EVENT_TAGS.deviceRemembered)).toHaveLength(2);
    expect(devices[1]!.eventId).not.toBeNull();

    // The row id is not the cookie and cannot be turned into one.
    expect(laptop).not.toContain(devices[1]!.id);
    expect(await h.services.rememberedDevices.forget(user, devices[1]!.id, PHONE)).toBe(true);
    expect(await h.services.rememberedDevices.forget(user, devices[1]!.id, PHONE)).toBe(false);
    expect(await h.services.rememberedDevices.isRemembered(laptop, user)).toBe(false);
    expect(await h.services.rememberedDevices.isRemembered(phone, user)).toBe(true);
    const forgotten = (await h.services.events.list(user.id)).find((event) => event.tag === EVENT_TAGS.deviceForgotten);
    expect(forgotten?.details).toEqual({ userAgent: FIREFOX.userAgent });
  });

  it('someone else cannot forget a device, and a cookie whose row is gone no longer skips the second factor', async () => {
    const user = await newUser();
    const stranger = await newUser();
    const cookie = await h.services.rememberedDevices.issue(user, PHONE);
    const [device] = await h.services.rememberedDevices.list(user);
    expect(await h.services.rememberedDevices.forget(stranger, device!.id, NO_ORIGIN)).toBe(false);
    expect(await h.services.rememberedDevices.isRemembered(cookie, user)).toBe(true);
    await h.db.deleteFrom('remembered_devices').where('user_id', '=', user.id).execute();
    expect(await h.services.rememberedDevices.isRemembered(cookie, user)).toBe(false);
  });

  it('forgetting all devices (security epoch bump) empties the list', async () => {
    const user = await newUser();
    await h.services.rememberedDevices.issue(user, PHONE);
    await h.services.accounts.bumpSecurityEpoch(user.id);
    const bumped = (await h.services.accounts.findById(user.id))!;
    expect(await h.services.rememberedDevices.list(bumped)).toEqual([]);
  });

  it('the history pages past the newest 30 events, and says where an event is', async () => {
    const user = await newUser(); // records account:create
    const ids: number[] = [];
    for (let i = 0; i < 2 * HISTORY_PAGE_SIZE + 4; i++) {
      h.clock.advance(1_000);
      ids.push(await h.services.events.record({ userId: user.id, tag: EVENT_TAGS.loginFailure, origin: FIREFOX }));
    }
    const total = 2 * HISTORY_PAGE_SIZE + 5;
    expect(await h.services.events.count(user.id)).toBe(total);
    const first = await h.services.events.list(user.id, { limit: HISTORY_PAGE_SIZE });
    const third = await h.services.events.list(user.id, { limit: HISTORY_PAGE_SIZE, offset: 2 * HISTORY_PAGE_SIZE });
    expect(first[0]!.id).toBe(ids.at(-1));
    expect(third).toHaveLength(5);
    expect(third.at(-1)!.tag).toBe(EVENT_TAGS.accountCreated);
    const stranger = await newUser();
    const strangers = await h.services.events.list(stranger.id);
    // Every listed session and device at once: one statement, not one (or two) per row.
    const statements = new StatementCounter();
    const counted = createServices(h.db.withPlugin(statements), h.config, { now: h.clock });
    const places = await counted.events.placesOf(user.id, [ids.at(-1)!, ids[0]!, ids[HISTORY_PAGE_SIZE]!, ids[0]!, strangers[0]!.id]);
    expect(statements.count).toBe(1);
    // The newest has none newer; the first failure has every later one and nothing else; a stranger's is absent.
    expect(places).toEqual(
      new Map([
        [ids.at(-1)!, 0],
        [ids[0]!, total - 2],
        [ids[HISTORY_PAGE_SIZE]!, total - 2 - HISTORY_PAGE_SIZE],
      ]),
    );
    expect(await h.services.events.placesOf(stranger.id, [ids[0]!])).toEqual(new Map());
    expect(await h.services.events.placesOf(user.id, [])).toEqual(new Map());
  });

  it('each session names the login event recorded with it, and a registration’s session the account’s creation', async () => {
    const user = await newUser();
    // Two logins of one browser at one address: each session is its own login's (they used to be found
    // afterwards by browser and address, so both named the newer event).
    const first = await h.services.login.startSession(user, 'totp', FIREFOX);
    const second = await h.services.login.startSession(user, 'password', FIREFOX);
    const logins = (await h.services.events.list(user.id)).filter((event) => event.tag === EVENT_TAGS.loginSuccess);
    expect(logins.map((event) => event.details)).toEqual([{ method: 'password' }, { method: 'totp' }]);
    expect(second!.session.event_id).toBe(logins[0]!.id);
    expect(first!.session.event_id).toBe(logins[1]!.id);
    const registration = await h.services.login.startSession(user, 'registration', FIREFOX);
    const created = (await h.services.events.list(user.id)).find((event) => event.tag === EVENT_TAGS.accountCreated);
    expect(registration!.session.event_id).toBe(created!.id);
    // A registration records no login of its own.
    expect((await h.services.events.list(user.id)).filter((event) => event.tag === EVENT_TAGS.loginSuccess)).toHaveLength(2);
  });

  it('security keys are renamed under the label rules, uniquely per account, with an event', async () => {
    const user = await newUser();
    const addKey = async (label: string) => {
      const key = softAuthenticator();
      const options = await h.services.webauthn.registrationOptions(user, label);
      await h.services.webauthn.register(user.id, key.createRegistrationResponse(options, { origin: h.config.origin }), label, NO_ORIGIN);
    };
    await addKey('Blue key');
    await addKey('Spare key');
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => 'renamed',
        (error: unknown) => (error instanceof WebauthnRefusal ? error.reason : 'threw'),
      );

    expect(await refusal(h.services.webauthn.rename(user.id, 'Blue key', 'spare KEY', FIREFOX))).toBe('label-taken');
    expect(await refusal(h.services.webauthn.rename(user.id, 'Blue key', '  ', FIREFOX))).toBe('invalid-label');
    expect(await refusal(h.services.webauthn.rename(user.id, 'Blue key', 'x'.repeat(65), FIREFOX))).toBe('invalid-label');
    expect(await refusal(h.services.webauthn.rename(user.id, 'Blue key', 'a\u202Eb', FIREFOX))).toBe('invalid-label');
    expect(await refusal(h.services.webauthn.rename(user.id, 'No such key', 'Fine', FIREFOX))).toBe('no-such-key');

    expect(await h.services.webauthn.rename(user.id, 'Blue key', '  Desk key ', FIREFOX)).toEqual({ from: 'Blue key', label: 'Desk key' });
    expect(await h.services.webauthn.rename(user.id, 'Desk key', 'desk key', FIREFOX)).toEqual({ from: 'Desk key', label: 'desk key' }); // case only: same key
    expect((await h.services.webauthn.list(user.id)).map((key) => key.label)).toEqual(['desk key', 'Spare key']);
    const renamed = (await h.services.events.list(user.id)).filter((event) => event.tag === EVENT_TAGS.webauthnRenamed);
    expect(renamed.map((event) => event.details)).toEqual([
      { method: 'webauthn', from: 'Desk key', label: 'desk key' },
      { method: 'webauthn', from: 'Blue key', label: 'Desk key' },
    ]);
  });
});
