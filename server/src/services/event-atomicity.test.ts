import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { softAuthenticator } from '@latchkey/test/soft-authenticator';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { EVENT_TAGS, type EventTag, NO_ORIGIN } from './events.js';

// Security-history audit: every change that records an event records it in the change's own transaction, so
// neither exists without the other. Each case makes the database refuse that one event (a trigger) and checks
// the change did not happen either — before, each of these wrote the change, then the event in a statement of
// its own, so a failure in between left a change the history never mentions.
const PASSWORD = 'correct horse battery staple';
const ORIGIN = { ip: '203.0.113.7', userAgent: 'test browser' };
/** The login a security-key answer below belongs to (the routes pass its two-factor token). */
const LOGIN = 'the token of this login';
let counter = 0;
const uniqueName = () => `atom${Date.now().toString(36)}${(counter++).toString(36)}`;

describe.each(DIALECTS)('a change and its event commit together, on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });
  const newUser = (email = 'someone@example.org') => h.services.accounts.register({ username: uniqueName(), email, password: PASSWORD });

  /** Run `work` while the database refuses to record events tagged `tag`; resolves to the message of what `work` threw (null: nothing). */
  async function withEventRefused(tag: EventTag, work: () => Promise<unknown>): Promise<string | null> {
    if (dialect === 'sqlite') {
      await sql`CREATE TRIGGER refuse_event BEFORE INSERT ON events WHEN NEW.tag = ${sql.lit(tag)} BEGIN SELECT RAISE(ABORT, 'event refused'); END`.execute(
        h.db,
      );
    } else {
      await sql`CREATE OR REPLACE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'event refused'; END $$`.execute(h.db);
      await sql`CREATE TRIGGER refuse_event BEFORE INSERT ON events FOR EACH ROW WHEN (NEW.tag = ${sql.lit(tag)}) EXECUTE FUNCTION refuse_event()`.execute(
        h.db,
      );
    }
    try {
      await work();
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      await sql`DROP TRIGGER refuse_event${sql.raw(dialect === 'postgres' ? ' ON events' : '')}`.execute(h.db);
    }
  }

  const tagsOf = async (userId: string) => (await h.services.events.list(userId)).map((event) => event.tag);

  it('logging out: the session ends only with its "Logged out"; an ending already done records nothing', async () => {
    const user = await newUser();
    const { token } = await h.services.sessions.create(user.id);
    expect(await withEventRefused(EVENT_TAGS.logout, () => h.services.sessions.logOut(user.id, token, ORIGIN))).toMatch(/event refused/);
    expect(await h.services.sessions.load(token)).not.toBeNull();
    expect(await h.services.sessions.logOut(user.id, token, ORIGIN)).toBe(true);
    expect(await h.services.sessions.load(token)).toBeNull();
    // Another account's session is not this account's to end; an ended one is not ended twice.
    const other = await newUser();
    const theirs = await h.services.sessions.create(other.id);
    expect(await h.services.sessions.logOut(user.id, theirs.token, ORIGIN)).toBe(false);
    expect(await h.services.sessions.load(theirs.token)).not.toBeNull();
    expect(await h.services.sessions.logOut(user.id, token, ORIGIN)).toBe(false);
    expect((await tagsOf(user.id)).filter((tag) => tag === EVENT_TAGS.logout)).toHaveLength(1);
  });

  it('ending one session from the account page: ended only with its event', async () => {
    const user = await newUser();
    const phone = await h.services.sessions.create(user.id, { userAgent: 'phone browser' });
    expect(await withEventRefused(EVENT_TAGS.sessionEnded, () => h.services.sessions.endForUser(user.id, phone.session.id, ORIGIN))).toMatch(/event refused/);
    expect(await h.services.sessions.load(phone.token)).not.toBeNull();
    expect(await h.services.sessions.endForUser(user.id, phone.session.id, ORIGIN)).toBe(true);
    expect((await h.services.events.list(user.id))[0]).toMatchObject({ tag: EVENT_TAGS.sessionEnded, details: { userAgent: 'phone browser' } });
  });

  it('"Log out of all sessions": the sessions end only with the event that counts them', async () => {
    const user = await newUser();
    const sessions = [await h.services.sessions.create(user.id), await h.services.sessions.create(user.id)];
    expect(await withEventRefused(EVENT_TAGS.sessionsRevoked, () => h.services.sessions.destroyAllForUser(user.id, ORIGIN))).toMatch(/event refused/);
    for (const { token } of sessions) expect(await h.services.sessions.load(token)).not.toBeNull();
    expect(await h.services.sessions.destroyAllForUser(user.id, ORIGIN)).toBe(2);
    expect((await h.services.events.list(user.id))[0]).toMatchObject({ tag: EVENT_TAGS.sessionsRevoked, details: { count: 2 } });
  });

  it('a security key: renamed only with its event, and its use (the counter, "last used") only with "Security key used"', async () => {
    const user = await newUser();
    const key = softAuthenticator();
    const options = await h.services.webauthn.registrationOptions(user, 'Desk key');
    await h.services.webauthn.register(user.id, key.createRegistrationResponse(options, { origin: h.config.origin }), 'Desk key', NO_ORIGIN);

    expect(await withEventRefused(EVENT_TAGS.webauthnRenamed, () => h.services.webauthn.rename(user.id, 'Desk key', 'Blue key', ORIGIN))).toMatch(
      /event refused/,
    );
    expect((await h.services.webauthn.list(user.id)).map((listed) => listed.label)).toEqual(['Desk key']);

    const stored = () =>
      h.db.selectFrom('webauthn_credentials').select(['sign_count', 'last_used_at']).where('user_id', '=', user.id).executeTakeFirstOrThrow();
    const before = await stored();
    const assertion = key.createAuthenticationResponse(await h.services.webauthn.authenticationOptions(user.id, LOGIN), { origin: h.config.origin });
    expect(await withEventRefused(EVENT_TAGS.webauthnUsed, () => h.services.webauthn.authenticate(user.id, LOGIN, assertion, ORIGIN))).toMatch(/event refused/);
    expect(await stored()).toEqual(before);
    const again = key.createAuthenticationResponse(await h.services.webauthn.authenticationOptions(user.id, LOGIN), { origin: h.config.origin });
    expect(await h.services.webauthn.authenticate(user.id, LOGIN, again, ORIGIN)).toEqual({ label: 'Desk key' });
    expect((await h.services.events.list(user.id))[0]).toMatchObject({ tag: EVENT_TAGS.webauthnUsed, details: { label: 'Desk key' } });
  });

  it('an administrator verifying an address: verified only with its event, which names the address as stored', async () => {
    const user = await newUser('Someone.Else@Example.org');
    const unverified = async () => (await h.services.emails.list(user.id)).map((address) => address.verified);
    expect(await withEventRefused(EVENT_TAGS.emailVerified, () => h.services.emails.markVerified(user.id, ' someone.else@EXAMPLE.ORG '))).toMatch(
      /event refused/,
    );
    expect(await unverified()).toEqual([false]);
    await h.services.emails.markVerified(user.id, ' someone.else@EXAMPLE.ORG ');
    expect(await unverified()).toEqual([true]);
    // As stored (the domain in lower case, the local part as registered), not as the administrator typed it.
    expect((await h.services.events.list(user.id))[0]).toMatchObject({
      tag: EVENT_TAGS.emailVerified,
      details: { email: 'Someone.Else@example.org', by: 'admin' },
    });
  });

  it('a login: its session only with "Logged in", and the session names that event', async () => {
    const user = await newUser();
    expect(await withEventRefused(EVENT_TAGS.loginSuccess, () => h.services.login.startSession(user, 'password', ORIGIN))).toMatch(/event refused/);
    expect(await h.services.sessions.listForUser(user.id)).toEqual([]);
    const started = await h.services.login.startSession(user, 'password', ORIGIN);
    const [login] = await h.services.events.list(user.id);
    expect(login).toMatchObject({ tag: EVENT_TAGS.loginSuccess, details: { method: 'password' } });
    expect(started!.session.event_id).toBe(login!.id);
  });

  it('an account an administrator creates: one first event, saying so and who, in the account’s own transaction', async () => {
    const created = () =>
      h.services.accounts.register({ username: uniqueName(), email: 'staff@example.org', password: PASSWORD }, NO_ORIGIN, {
        emailVerified: true,
        createdBy: 'root@host (admin CLI)',
      });
    expect(await withEventRefused(EVENT_TAGS.adminUserCreated, created)).toMatch(/event refused/);
    const user = await created();
    const history = await h.services.events.list(user.id);
    // Not "Account created" (by its owner) followed, in a statement of its own, by "created by an administrator".
    expect(history).toMatchObject([{ tag: EVENT_TAGS.adminUserCreated, details: { actor: 'root@host (admin CLI)', emailVerified: true } }]);
    expect(await h.services.events.creationEvent(user.id)).toBe(history[0]!.id);
  });

  it('removing a second factor: the event says when it was the last, so the history tells that 2FA went off', async () => {
    const user = await newUser();
    await h.services.totp.enable(user.id, h.services.totp.generateSecret());
    const key = softAuthenticator();
    const options = await h.services.webauthn.registrationOptions(user, 'Desk key');
    await h.services.webauthn.register(user.id, key.createRegistrationResponse(options, { origin: h.config.origin }), 'Desk key', NO_ORIGIN);
    await h.services.recoveryCodes.generate(user.id);
    expect(await h.services.totp.disable(user.id, ORIGIN, { lastFactorConfirmed: true })).toBe(true);
    expect((await h.services.events.list(user.id))[0]).toMatchObject({ tag: EVENT_TAGS.methodRemoved, details: { method: 'totp' } });
    expect((await h.services.events.list(user.id))[0]!.details.twoFactorOff).toBeUndefined();
    await h.services.webauthn.remove(user.id, 'Desk key', ORIGIN, { lastFactorConfirmed: true });
    // Before: the same { method, label } as any removal, "Security key “Desk key” removed", with 2FA now off.
    expect((await h.services.events.list(user.id))[0]).toMatchObject({
      tag: EVENT_TAGS.methodRemoved,
      details: { method: 'webauthn', label: 'Desk key', twoFactorOff: true },
    });
    expect(await h.services.recoveryCodes.remaining(user.id)).toBe(0);
  });
});
