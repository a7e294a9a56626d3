import { describe, expect, it } from 'vitest';
import { ROUTES } from '@latchkey/shared';
import { linkIn, readOutbox } from '../testing/read-outbox.js';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { uniqueName } from '../testing/unique-name.js';
import { ServiceError } from './errors.js';
import { EVENT_TAGS, NO_ORIGIN } from './events.js';

const ROUNDS = 8;
const GONE = 'That address is not on your account (any more). Reload the account page.';
const PRIMARY_KEPT = 'Your primary address cannot be removed. Make another verified address primary first.';

// Removing an address at the moment something else changes it, for one account. On PostgreSQL (READ COMMITTED)
// `remove` used to read the row, then delete it by id alone, without the account's row lock that "make primary"
// takes: removing B while B was made primary deleted the new primary (no primary left, `users.email` still B, and
// reset links went to the removed address); a double submit removed once but recorded and mailed twice; and a
// verification link opened meanwhile said "already used". SQLite's transactions run one after the other (BEGIN
// IMMEDIATE) and never showed any of it; the tests run there too.
describe.each(DIALECTS)('removing an address at the same moment as another change on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  /** An account with its verified first address A and a second address B (verified unless said otherwise). */
  const accountWithSecond = async ({ verified = true } = {}) => {
    const name = uniqueName('rm');
    const user = await h.services.accounts.register({ username: name, email: `${name}@example.org`, password: 'correct horse battery staple' }, NO_ORIGIN, {
      emailVerified: true,
    });
    const b = await h.services.emails.add(user.id, `${name}.b@example.org`, NO_ORIGIN);
    if (verified) await h.services.emails.markVerified(user.id, b.email);
    return { user, b };
  };

  const eventsTagged = async (userId: string, tag: string) => (await h.services.events.list(userId, { limit: 50 })).filter((event) => event.tag === tag);

  it('"Make primary" and "Remove" of one address at once: one wins, the other is refused, and the account keeps exactly one primary', async () => {
    const outcomes = { removed: 0, madePrimary: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const { user, b } = await accountWithSecond();
      const [primary, removal] = await Promise.allSettled([
        h.services.emails.makePrimary(user.id, b.id, NO_ORIGIN),
        h.services.emails.remove(user.id, b.id, NO_ORIGIN),
      ]);
      const addresses = await h.services.emails.list(user.id);
      const stored = (await h.services.accounts.findById(user.id))!.email;
      // The invariant the race broke: one primary row, and it is the address `users.email` (where resets go) names.
      expect(
        addresses.filter((address) => address.primary).map((address) => address.email),
        `round ${round}`,
      ).toEqual([stored]);
      if (removal.status === 'fulfilled') {
        // Removed first: "make primary" finds the address gone (404, the route's answer for a missing address).
        outcomes.removed++;
        expect(primary.status).toBe('rejected');
        expect((primary as PromiseRejectedResult).reason).toBeInstanceOf(ServiceError);
        expect((primary as PromiseRejectedResult).reason).toMatchObject({ status: 404, message: GONE });
        expect(addresses.map((address) => address.email)).toEqual([user.email]);
        expect(await eventsTagged(user.id, EVENT_TAGS.primaryEmailChanged)).toHaveLength(0);
      } else {
        // Made primary first: removing it is refused as removing the primary is (400), nothing removed.
        outcomes.madePrimary++;
        expect(primary.status).toBe('fulfilled');
        expect(removal.reason).toBeInstanceOf(ServiceError);
        expect(removal.reason).toMatchObject({ status: 400, message: PRIMARY_KEPT });
        expect(stored).toBe(b.email);
        expect(addresses.map((address) => address.email).sort()).toEqual([b.email, user.email].sort());
        expect(await eventsTagged(user.id, EVENT_TAGS.emailRemoved)).toHaveLength(0);
      }
    }
    expect(outcomes.removed + outcomes.madePrimary).toBe(ROUNDS);
  });

  it('two identical "Remove" posts at once: one removal, one event, one notice; the other is answered "not on your account (any more)"', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { user, b } = await accountWithSecond();
      const results = await Promise.allSettled([1, 2].map(() => h.services.emails.remove(user.id, b.id, NO_ORIGIN)));
      expect(
        results.filter((result) => result.status === 'fulfilled'),
        `round ${round}`,
      ).toHaveLength(1);
      const refused = results.find((result) => result.status === 'rejected');
      expect(refused?.reason).toBeInstanceOf(ServiceError);
      expect(refused?.reason).toMatchObject({ status: 404, message: GONE });
      const events = await eventsTagged(user.id, EVENT_TAGS.emailRemoved);
      expect(events.map((event) => event.details)).toEqual([{ email: b.email, verified: true }]);
      expect(await readOutbox(h.services, { to: user.email, kind: 'notice:email-removed' })).toHaveLength(1);
      expect((await h.services.emails.list(user.id)).map((address) => address.email)).toEqual([user.email]);
    }
  });

  it('a verification link opened while its address is removed: verified, or "removed" — never "already used" for an address never verified', async () => {
    const outcomes = { verifiedThenRemoved: 0, removedFirst: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const { user, b } = await accountWithSecond({ verified: false });
      const link = linkIn((await readOutbox(h.services, { to: b.email, kind: 'verify-email' })).at(-1)!.text, ROUTES.verifyEmail)!;
      const token = new URL(link, 'http://localhost').searchParams.get('token');
      const [verified, removal] = await Promise.allSettled([
        h.services.emails.verify(token, user.id, NO_ORIGIN),
        h.services.emails.remove(user.id, b.id, NO_ORIGIN),
      ]);
      expect(verified.status).toBe('fulfilled');
      expect(removal.status).toBe('fulfilled');
      const result = (verified as PromiseFulfilledResult<Awaited<ReturnType<typeof h.services.emails.verify>>>).value;
      const [removedEvent] = await eventsTagged(user.id, EVENT_TAGS.emailRemoved);
      if (result.ok) {
        // Verified, then removed: the removal names it verified (so the primary address is told).
        outcomes.verifiedThenRemoved++;
        expect(removedEvent?.details).toEqual({ email: b.email, verified: true });
      } else {
        outcomes.removedFirst++;
        expect(result, `round ${round}`).toEqual({ ok: false, problem: 'removed' });
        expect(removedEvent?.details).toEqual({ email: b.email, verified: false });
        expect(await eventsTagged(user.id, EVENT_TAGS.emailVerified)).toHaveLength(0);
      }
    }
    expect(outcomes.verifiedThenRemoved + outcomes.removedFirst).toBe(ROUNDS);
  });

  it('the admin CLI verifying an address while its owner removes it: verified then removed, or "not on the account" — never "already verified"', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { user, b } = await accountWithSecond({ verified: false });
      const [marked, removal] = await Promise.allSettled([
        h.services.emails.markVerified(user.id, b.email),
        h.services.emails.remove(user.id, b.id, NO_ORIGIN),
      ]);
      expect(removal.status).toBe('fulfilled');
      const [removedEvent] = await eventsTagged(user.id, EVENT_TAGS.emailRemoved);
      if (marked.status === 'fulfilled') {
        expect(removedEvent?.details).toEqual({ email: b.email, verified: true });
      } else {
        expect(marked.reason, `round ${round}`).toMatchObject({ status: 404, message: 'This address is not on the account.' });
        expect(removedEvent?.details).toEqual({ email: b.email, verified: false });
      }
    }
  });
});
