import { describe, expect, it } from 'vitest';
import type { Database } from '../db/schema.js';
import { uniqueName } from '../testing/http-harness.js';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { ServiceError } from './errors.js';
import { EVENT_TAGS, NO_ORIGIN } from './events.js';

// `accounts.deleteAccount`: the account and every row it owns go in one transaction; what is kept is the
// deletion's event (without its user), its notice to the verified address, and the name, never reused.
const PASSWORD = 'correct horse battery staple';
const ORIGIN = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' };
/** Every table with a `user_id` (db/schema.ts): after the deletion none may hold the account's id. */
const OWNED_TABLES = [
  'webauthn_credentials',
  'webauthn_challenges',
  'recovery_codes',
  'sessions',
  'remembered_devices',
  'login_tokens',
  'totp_guesses',
  'events',
  'user_emails',
  'mail_outbox',
  'notice_throttle',
  'password_resets',
] as const satisfies readonly (keyof Database)[];

describe.each(DIALECTS)('deleting an account on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  /** An account with a row in as many owned tables as the services make: factors, sessions, devices, mail, history. */
  async function busyAccount() {
    const user = await h.services.accounts.register({ username: uniqueName(), email: `${uniqueName()}@example.org`, password: PASSWORD }, NO_ORIGIN, {
      emailVerified: true,
    });
    await h.services.recoveryCodes.generate(user.id);
    await h.services.sessions.create(user.id, { userAgent: ORIGIN.userAgent });
    await h.services.rememberedDevices.issue(user, ORIGIN);
    await h.services.loginTokens.issue(user);
    await h.services.events.record({ userId: user.id, tag: EVENT_TAGS.loginSuccess, origin: ORIGIN, details: { method: 'password' } });
    await h.services.emails.add(user.id, `${uniqueName()}@example.org`, ORIGIN); // queues a verification mail
    await h.db.insertInto('totp_guesses').values({ user_id: user.id, guessed_at: h.clock() }).execute();
    await h.services.passwordResets.request(user.username, ORIGIN); // a reset mail to the verified address
    return user;
  }

  const rowsOf = async (userId: string) =>
    Object.fromEntries(
      await Promise.all(
        OWNED_TABLES.map(async (table) => {
          const row = await h.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('count'))
            .where('user_id', '=', userId)
            .executeTakeFirstOrThrow();
          return [table, Number(row.count)] as const;
        }),
      ),
    );

  it('removes the account and every row it owns, leaves other accounts alone, and keeps the event without its user', async () => {
    const user = await busyAccount();
    const other = await busyAccount();
    const before = await rowsOf(user.id);
    // The set-up reaches most tables, so "0 after" below says something.
    expect(Object.values(before).filter((count) => count > 0).length).toBeGreaterThanOrEqual(9);
    const othersBefore = await rowsOf(other.id);

    await h.services.accounts.deleteAccount(user, ORIGIN);

    expect(await h.services.accounts.findById(user.id)).toBeUndefined();
    expect(await rowsOf(user.id)).toEqual(Object.fromEntries(OWNED_TABLES.map((table) => [table, 0])));
    expect(await rowsOf(other.id)).toEqual(othersBefore);
    const kept = await h.db
      .selectFrom('events')
      .selectAll()
      .where('tag', '=', EVENT_TAGS.accountDeleted)
      .where('details', 'like', `%${user.username}%`)
      .execute();
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ user_id: null, ip: ORIGIN.ip });
    expect(JSON.parse(kept[0]!.details)).toEqual({ username: user.username });
  });

  it("queues one notice to the verified primary address and drops the rest of the account's mail, sent or waiting", async () => {
    const user = await busyAccount();
    const waiting = await h.db.selectFrom('mail_outbox').select(['id', 'kind', 'recipient']).where('user_id', '=', user.id).execute();
    expect(waiting.map((mail) => mail.kind)).toEqual(expect.arrayContaining([expect.stringMatching(/verif/), expect.stringMatching(/reset/)]));
    // One already sent: kept as a record, it would hold the account's address past its deletion (QA).
    await h.db.updateTable('mail_outbox').set({ sent_at: h.clock() }).where('id', '=', waiting[0]!.id).execute();

    await h.services.accounts.deleteAccount(user, ORIGIN);

    const mail = await h.db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('recipient', 'in', [user.email, ...waiting.map((m) => m.recipient)])
      .execute();
    expect(mail.map((m) => ({ kind: m.kind, recipient: m.recipient, userId: m.user_id }))).toEqual([
      { kind: 'notice:account-deleted', recipient: user.email, userId: null },
    ]);
    expect(mail[0]!.subject).toMatch(/your account was deleted/);
  });

  it('two deletions at once (a double-click, two tabs): one deletes, the other finds the account gone; one event, one notice', async () => {
    const user = await busyAccount();
    const results = await Promise.all([h.services.accounts.deleteAccount(user, ORIGIN), h.services.accounts.deleteAccount(user, ORIGIN)]);
    expect(results.sort()).toEqual(['already-gone', 'deleted']);
    const events = await h.db
      .selectFrom('events')
      .select('id')
      .where('tag', '=', EVENT_TAGS.accountDeleted)
      .where('details', 'like', `%"${user.username}"%`)
      .execute();
    expect(events).toHaveLength(1);
    const notices = await h.db
      .selectFrom('mail_outbox')
      .select('id')
      .where('recipient', '=', user.email)
      .where('kind', '=', 'notice:account-deleted')
      .execute();
    expect(notices).toHaveLength(1);
    expect(await h.services.accounts.deleteAccount(user, ORIGIN)).toBe('already-gone');
  });

  it('never registers the name again, in any case', async () => {
    const user = await busyAccount();
    await h.services.accounts.deleteAccount(user, ORIGIN);
    const again = { username: user.username.toUpperCase(), email: 'new@example.org', password: PASSWORD };
    expect(await h.services.accounts.registrationProblems(again)).toEqual({
      status: 409,
      fieldErrors: { username: 'This username belonged to an account that was deleted, and cannot be used again. Choose another one.' },
    });
    await expect(h.services.accounts.register(again)).rejects.toThrow(ServiceError);
    expect(await h.services.accounts.findByUsername(user.username)).toBeUndefined();
  });
});
