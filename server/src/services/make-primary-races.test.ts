import { describe, expect, it } from 'vitest';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { uniqueName } from '../testing/unique-name.js';
import { ServiceError } from './errors.js';
import { EVENT_TAGS, NO_ORIGIN } from './events.js';

const ROUNDS = 8;

// "Make primary" sent several times at once for one account (a double-click, two tabs). On PostgreSQL the
// requests used to run side by side: a double submit made two changes and two "primary changed" events, and
// requests for different addresses deadlocked on the one-primary index (a 500). They now take the account's
// row first and run one after the other; SQLite's transactions always did.
describe.each(DIALECTS)('make primary at the same moment on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  /** An account with its first address and two more, all verified. */
  const accountWithAddresses = async () => {
    const name = uniqueName('primary');
    const user = await h.services.accounts.register({ username: name, email: `${name}@example.org`, password: 'correct horse battery staple' });
    const added = [];
    for (const suffix of ['b', 'c']) {
      const address = await h.services.emails.add(user.id, `${name}.${suffix}@example.org`, NO_ORIGIN);
      await h.services.emails.markVerified(user.id, address.email);
      added.push(address);
    }
    return { user, b: added[0]!, c: added[1]! };
  };

  const primaryChanges = async (userId: string) =>
    (await h.services.events.list(userId, { limit: 50 })).filter((event) => event.tag === EVENT_TAGS.primaryEmailChanged);

  const primaries = async (userId: string) => (await h.services.emails.list(userId)).filter((address) => address.primary).map((address) => address.email);

  it('a double submit for one address makes one change and one event; the second is answered "already primary"', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { user, b } = await accountWithAddresses();
      const results = await Promise.allSettled([1, 2].map(() => h.services.emails.makePrimary(user.id, b.id, NO_ORIGIN)));
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((result) => result.status === 'rejected');
      expect(refused?.reason).toBeInstanceOf(ServiceError);
      expect(refused?.reason).toMatchObject({ status: 409, message: 'This address is already your primary address.' });
      const events = await primaryChanges(user.id);
      expect(events.map((event) => event.details)).toEqual([{ from: user.email, to: b.email }]);
      expect(await primaries(user.id)).toEqual([b.email]);
    }
  });

  it('two addresses, each sent twice at once: no database error, one primary, one event per change and none "from A to A"', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { user, b, c } = await accountWithAddresses();
      const results = await Promise.allSettled([b, b, c, c].map((address) => h.services.emails.makePrimary(user.id, address.id, NO_ORIGIN)));
      for (const result of results) {
        // Only the service's own answers: "already primary" (409). A deadlock (40P01) was the failure here.
        if (result.status === 'rejected') expect(result.reason).toMatchObject({ status: 409, message: 'This address is already your primary address.' });
      }
      const changed = results.filter((result) => result.status === 'fulfilled').length;
      const events = await primaryChanges(user.id);
      expect(events).toHaveLength(changed);
      for (const event of events) expect(event.details.from).not.toBe(event.details.to);
      expect(changed).toBeGreaterThanOrEqual(1);
      // The primary is the address of the change that committed last, which the last event names.
      expect(await primaries(user.id)).toEqual([events[0]!.details.to]);
    }
  });
});
