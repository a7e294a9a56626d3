import { describe, expect, it } from 'vitest';
import { holdTransaction, untilSomeoneWaitsOnALock } from '../testing/held-transaction.js';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { EVENT_TAGS, NO_ORIGIN } from './events.js';
import { requestResetLinks } from '../testing/reset-links.js';
import { openMailBody } from './mail/mail-outbox.js';
import { PASSWORD_RESET_TTL_MS, RESET_REQUEST_FLOOR_MS } from './password-resets.js';
import { uniqueName } from '../testing/unique-name.js';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a different long passphrase';

describe.each(DIALECTS)('password changes and reset links on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  /** A new account whose primary address is verified: the only kind a reset link is mailed to. */
  const newUser = async (email = `${uniqueName('reset')}@example.org`) => {
    const user = await newUnverifiedUser(email);
    await h.services.emails.markVerified(user.id, email);
    return (await h.services.accounts.findById(user.id))!;
  };
  const newUnverifiedUser = (email: string) => h.services.accounts.register({ username: uniqueName('reset'), email, password: PASSWORD });

  /** The notices without a link that reset requests queued for `to`, oldest first. */
  const notVerifiedNotices = (to: string) =>
    h.db
      .selectFrom('mail_outbox')
      .select(['user_id', 'recipient'])
      .where('kind', '=', 'password-reset-not-verified')
      .where('recipient', '=', to)
      .orderBy('id')
      .execute();

  /** Request a reset for `identifier`; the links it queued in the mail outbox. */
  const requestLinks = (identifier: string) => requestResetLinks(h.services, identifier);

  describe('setPassword', () => {
    it('changes the hash, bumps the epoch, ends every other session, keeps 2FA, records the event', async () => {
      const user = await newUser();
      await h.db.updateTable('users').set({ totp_secret_enc: 'sealed', totp_enabled_at: 1 }).where('id', '=', user.id).execute();
      const kept = await h.services.sessions.create(user.id);
      const other = await h.services.sessions.create(user.id);
      const device = await h.services.rememberedDevices.issue(user, NO_ORIGIN);
      const result = await h.services.passwordChanges.setPassword(user.id, NEW_PASSWORD, { reason: 'change', keepSessionId: kept.session.id });
      expect(result.sessionsEnded).toBe(1);
      expect(await h.services.sessions.load(kept.token)).not.toBeNull();
      expect(await h.services.sessions.load(other.token)).toBeNull();
      const after = (await h.services.accounts.findById(user.id))!;
      expect(after.security_epoch).toBe(user.security_epoch + 1);
      expect(await h.services.rememberedDevices.isRemembered(device, after)).toBe(false);
      expect(after.totp_secret_enc).toBe('sealed');
      expect(await h.services.accounts.verifyPassword(after, NEW_PASSWORD)).toBe(true);
      expect(await h.services.accounts.verifyPassword(after, PASSWORD)).toBe(false);
      expect((await h.services.events.list(user.id)).map((event) => event.tag)).toContain(EVENT_TAGS.passwordChanged);
    });

    it.each([
      ['short', /at least 12/],
      ['p'.repeat(1025), /at most 1024/],
      ['Password1234!', /commonly used or breached/],
    ])('refuses %s under the registration rule and changes nothing', async (password, message) => {
      const user = await newUser();
      await expect(h.services.passwordChanges.setPassword(user.id, password, { reason: 'change' })).rejects.toThrow(message);
      expect((await h.services.accounts.findById(user.id))!.password_hash).toBe(user.password_hash);
    });

    it('refuses a password containing the username', async () => {
      const user = await newUser();
      await expect(h.services.passwordChanges.setPassword(user.id, `my ${user.username} password`, { reason: 'change' })).rejects.toThrow(/username/);
    });

    it('a change checked against a password that a reset replaced meanwhile is refused, not written over the reset', async () => {
      const user = await newUser();
      const [link] = await requestLinks(user.username);
      // The change route checked the current password against this row, then the owner's reset committed.
      expect((await h.services.passwordResets.reset(link!.token, NEW_PASSWORD)).ok).toBe(true);
      await expect(
        h.services.passwordChanges.setPassword(user.id, 'attacker chosen passphrase', { reason: 'change', expectedPasswordHash: user.password_hash }),
      ).rejects.toMatchObject({ status: 409, field: 'password' });
      expect(await h.services.accounts.verifyPassword((await h.services.accounts.findById(user.id))!, NEW_PASSWORD)).toBe(true);
    });

    it('two different reset links used at once: one sets the password, the other is stale', async () => {
      const user = await newUser();
      const [first] = await requestLinks(user.username);
      const [second] = await requestLinks(user.username);
      const results = await Promise.all([
        h.services.passwordResets.reset(first!.token, NEW_PASSWORD),
        h.services.passwordResets.reset(second!.token, 'yet another long passphrase'),
      ]);
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      expect(results.find((result) => !result.ok)).toEqual({ ok: false, problem: 'stale' });
      expect((await h.services.events.list(user.id)).filter((event) => event.tag === EVENT_TAGS.passwordReset)).toHaveLength(1);
    });

    it('rolls everything back when a write in the same transaction fails', async () => {
      const user = await newUser();
      const session = await h.services.sessions.create(user.id);
      await expect(
        h.services.passwordChanges.setPassword(user.id, NEW_PASSWORD, {
          reason: 'change',
          alsoInTransaction: async () => {
            throw new Error('mail outbox down');
          },
        }),
      ).rejects.toThrow('mail outbox down');
      const after = (await h.services.accounts.findById(user.id))!;
      expect(after.password_hash).toBe(user.password_hash);
      expect(after.security_epoch).toBe(user.security_epoch);
      expect(await h.services.sessions.load(session.token)).not.toBeNull();
    });
  });

  describe('reset links', () => {
    it('are made for a username or an address (case-insensitive) and recorded; nothing for an unknown name', async () => {
      const email = `${uniqueName('reset')}@Example.org`;
      const user = await newUser(email);
      expect((await requestLinks(user.username.toUpperCase())).map((link) => link.userId)).toEqual([user.id]);
      expect((await requestLinks(email.toLowerCase())).map((link) => link.userId)).toEqual([user.id]);
      expect(await requestLinks('nobody-has-this-name')).toEqual([]);
      expect(await requestLinks('nobody@example.org')).toEqual([]);
      const tags = (await h.services.events.list(user.id)).map((event) => event.tag);
      expect(tags.filter((tag) => tag === EVENT_TAGS.passwordResetRequested)).toHaveLength(2);
    });

    it('go to a verified or primary address typed, never to an address added but not verified', async () => {
      const user = await newUser(`${uniqueName('reset')}@example.org`);
      const unverified = `${uniqueName('reset')}@example.net`;
      await h.services.emails.add(user.id, unverified, NO_ORIGIN);
      expect(await requestLinks(unverified)).toEqual([]);
      const byName = await requestLinks(user.username);
      expect(byName.map((link) => link.to)).toEqual([user.email]);
    });

    it('never go to an unverified primary address: it gets a notice without a link, by username or typed, and the history says so', async () => {
      const typo = `${uniqueName('reset')}@gmial.example`;
      const user = await newUnverifiedUser(typo);
      expect(await requestLinks(user.username)).toEqual([]);
      expect(await requestLinks(typo)).toEqual([]);
      expect(await notVerifiedNotices(typo)).toEqual([
        { user_id: user.id, recipient: typo },
        { user_id: user.id, recipient: typo },
      ]);
      const requested = (await h.services.events.list(user.id)).filter((event) => event.tag === EVENT_TAGS.passwordResetRequested);
      expect(requested.map((event) => event.details)).toEqual([{ link: false }, { link: false }]);

      // Once the account has a verified address, a request by username sends the link there (not to the typo).
      const real = `${uniqueName('reset')}@example.org`;
      await h.services.emails.add(user.id, real, NO_ORIGIN);
      await h.services.emails.markVerified(user.id, real);
      expect((await requestLinks(user.username)).map((link) => link.to)).toEqual([real]);
      expect(await requestLinks(typo)).toEqual([]);
      expect(await notVerifiedNotices(typo)).toHaveLength(3);
    });

    it('by address: the account that verified it gets the link, accounts that only typed it get nothing (not even the first five)', async () => {
      const shared = `${uniqueName('reset')}@example.org`;
      const squatters = [];
      for (let i = 0; i < 5; i++) squatters.push(await newUnverifiedUser(shared));
      const owner = await newUser(shared);
      expect((await requestLinks(shared)).map((link) => link.userId)).toEqual([owner.id]);
      expect(await notVerifiedNotices(shared)).toEqual([]);
      for (const squatter of squatters) {
        expect((await h.services.events.list(squatter.id)).map((event) => event.tag)).not.toContain(EVENT_TAGS.passwordResetRequested);
      }
    });

    it('take the same time for a known and an unknown account (both at least the floor)', async () => {
      const user = await newUser();
      const time = async (identifier: string) => {
        const started = performance.now();
        await requestLinks(identifier);
        return performance.now() - started;
      };
      const known = await time(user.username);
      const unknown = await time('no-such-account-here');
      expect(known).toBeGreaterThanOrEqual(RESET_REQUEST_FLOOR_MS - 5);
      expect(unknown).toBeGreaterThanOrEqual(RESET_REQUEST_FLOOR_MS - 5);
      // Generous for a busy machine: what matters is that neither is near-instant while the other is not.
      expect(Math.abs(known - unknown)).toBeLessThan(250);
    });

    it('work once: the password changes, every session ends, 2FA stays on; a reuse is "used"', async () => {
      const user = await newUser();
      await h.db.updateTable('users').set({ totp_secret_enc: 'sealed', totp_enabled_at: 1 }).where('id', '=', user.id).execute();
      const session = await h.services.sessions.create(user.id);
      const [link] = await requestLinks(user.username);
      expect((await h.services.passwordResets.inspect(link!.token)).ok).toBe(true);
      const results = await Promise.all([
        h.services.passwordResets.reset(link!.token, NEW_PASSWORD),
        h.services.passwordResets.reset(link!.token, 'yet another long passphrase'),
      ]);
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      expect(results.find((result) => !result.ok)).toEqual({ ok: false, problem: 'used' });
      const after = (await h.services.accounts.findById(user.id))!;
      const winner = results[0]!.ok ? NEW_PASSWORD : 'yet another long passphrase';
      expect(await h.services.accounts.verifyPassword(after, winner)).toBe(true);
      expect(after.totp_secret_enc).toBe('sealed');
      expect((await h.services.accounts.twoFactorStatus(user.id)).enabled).toBe(true);
      expect(await h.services.sessions.load(session.token)).toBeNull();
      expect(await h.services.passwordResets.inspect(link!.token)).toEqual({ ok: false, problem: 'used' });
      expect((await h.services.events.list(user.id)).map((event) => event.tag)).toContain(EVENT_TAGS.passwordReset);
    });

    it('die when the password changes by any route ("stale"), and after an hour ("expired")', async () => {
      const user = await newUser();
      const [first] = await requestLinks(user.username);
      const [second] = await requestLinks(user.username);
      await h.services.passwordChanges.setPassword(user.id, NEW_PASSWORD, { reason: 'change' });
      expect(await h.services.passwordResets.inspect(first!.token)).toEqual({ ok: false, problem: 'stale' });
      expect(await h.services.passwordResets.reset(second!.token, 'yet another long passphrase')).toEqual({ ok: false, problem: 'stale' });
      expect(await h.services.accounts.verifyPassword((await h.services.accounts.findById(user.id))!, NEW_PASSWORD)).toBe(true);

      const [late] = await requestLinks(user.username);
      h.clock.advance(PASSWORD_RESET_TTL_MS);
      expect(await h.services.passwordResets.inspect(late!.token)).toEqual({ ok: false, problem: 'expired' });
    });

    it('refuse forged, altered and malformed tokens, each with its own problem', async () => {
      const user = await newUser();
      const other = await newUser();
      const [link] = await requestLinks(user.username);
      const [body, mac] = link!.token.split('.');
      const payload = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
      // Pointing a genuine link at another account breaks the signature.
      const retargeted = `${Buffer.from(JSON.stringify({ ...payload, u: other.id })).toString('base64url')}.${mac}`;
      expect(await h.services.passwordResets.inspect(retargeted)).toEqual({ ok: false, problem: 'forged' });
      expect(await h.services.passwordResets.inspect(`${body}.${'A'.repeat(43)}`)).toEqual({ ok: false, problem: 'forged' });
      expect(await h.services.passwordResets.inspect(undefined)).toEqual({ ok: false, problem: 'missing' });
      expect(await h.services.passwordResets.inspect('')).toEqual({ ok: false, problem: 'missing' });
      expect(await h.services.passwordResets.inspect(link!.token.slice(0, 30))).toEqual({ ok: false, problem: 'malformed' });
      expect(await h.services.passwordResets.inspect(['a', 'b'])).toEqual({ ok: false, problem: 'malformed' });
      expect(await h.services.passwordResets.inspect(`${link!.token}.x`)).toEqual({ ok: false, problem: 'malformed' });
      expect(await h.services.passwordResets.inspect('x'.repeat(600))).toEqual({ ok: false, problem: 'malformed' });
      expect((await h.services.passwordResets.inspect(link!.token)).ok).toBe(true);
    });

    it('name the address they went to: removing it kills the link, and the reset notice names it', async () => {
      const user = await newUser(`${uniqueName('reset')}@example.org`);
      const stranger = `${uniqueName('reset')}@example.net`;
      const added = await h.services.emails.add(user.id, stranger, NO_ORIGIN);
      await h.db.updateTable('user_emails').set({ verified_at: 1 }).where('id', '=', added.id).execute();
      const [first] = await requestLinks(stranger);
      const [second] = await requestLinks(stranger);
      expect(first!.to).toBe(stranger);
      // The owner finds the stranger's address and removes it: what was mailed there stops working.
      await h.services.emails.remove(user.id, added.id, NO_ORIGIN);
      expect(await h.services.passwordResets.inspect(first!.token)).toEqual({ ok: false, problem: 'address-removed' });
      expect(await h.services.passwordResets.reset(second!.token, NEW_PASSWORD)).toEqual({ ok: false, problem: 'address-removed' });
      expect(await h.services.accounts.verifyPassword((await h.services.accounts.findById(user.id))!, PASSWORD)).toBe(true);

      const again = await h.services.emails.add(user.id, stranger, NO_ORIGIN);
      await h.db.updateTable('user_emails').set({ verified_at: 1 }).where('id', '=', again.id).execute();
      const [third] = await requestLinks(stranger);
      expect((await h.services.passwordResets.reset(third!.token, NEW_PASSWORD)).ok).toBe(true);
      const notice = await h.db
        .selectFrom('mail_outbox')
        .selectAll()
        .where('user_id', '=', user.id)
        .where('kind', '=', 'notice:password-reset')
        .executeTakeFirstOrThrow();
      expect(notice.recipient).toBe(user.email);
      const text = openMailBody(h.services.keys['mail-body'], notice.message_id, notice.body_enc!).text;
      expect(text).toContain(`reset through a link sent to ${stranger}`);
      expect(text).not.toContain('sent to this address');

      // By username the link goes to the primary address, and the notice (there too) says "this address".
      const [byName] = await requestLinks(user.username);
      expect(byName!.to).toBe(user.email);
      expect((await h.services.passwordResets.reset(byName!.token, 'yet another long passphrase')).ok).toBe(true);
      const notices = await h.db
        .selectFrom('mail_outbox')
        .selectAll()
        .where('user_id', '=', user.id)
        .where('kind', '=', 'notice:password-reset')
        .orderBy('id')
        .execute();
      expect(openMailBody(h.services.keys['mail-body'], notices.at(-1)!.message_id, notices.at(-1)!.body_enc!).text).toContain('sent to this address');
    });

    it('an address removed while its link is being used takes the link with it (the removal and the reset never both win)', async () => {
      const user = await newUser(`${uniqueName('reset')}@example.org`);
      const stranger = `${uniqueName('reset')}@example.net`;
      const added = await h.services.emails.add(user.id, stranger, NO_ORIGIN);
      await h.db.updateTable('user_emails').set({ verified_at: 1 }).where('id', '=', added.id).execute();
      const [link] = await requestLinks(stranger);
      // The owner's removal is under way (its transaction holds the row) when the link is posted.
      const removal = await holdTransaction(h.db, async (trx) => {
        await h.services.boundTo(trx).emails.remove(user.id, added.id, NO_ORIGIN);
      });
      const reset = h.services.passwordResets.reset(link!.token, NEW_PASSWORD);
      await untilSomeoneWaitsOnALock(h.db, dialect);
      await removal.release();
      expect(await reset).toEqual({ ok: false, problem: 'address-removed' });
      expect(await h.services.accounts.verifyPassword((await h.services.accounts.findById(user.id))!, PASSWORD)).toBe(true);
    });

    it('a refused new password leaves the link usable', async () => {
      const user = await newUser();
      const [link] = await requestLinks(user.username);
      await expect(h.services.passwordResets.reset(link!.token, 'short')).rejects.toThrow(/at least 12/);
      expect((await h.services.passwordResets.reset(link!.token, NEW_PASSWORD)).ok).toBe(true);
    });
  });
});
