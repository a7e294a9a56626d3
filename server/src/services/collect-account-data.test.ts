import { describe, expect, it } from 'vitest';
import { uniqueName } from '../testing/http-harness.js';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { ACCOUNT_DATA_EVENTS_PER_PAGE, collectAccountData } from './collect-account-data.js';
import { EVENT_TAGS, NO_ORIGIN, type SecurityEvent } from './events.js';

const describeEvent = (event: SecurityEvent) => `event ${event.id}`;

describe.each(DIALECTS)('the account-data download on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  async function userWithEvents(count: number) {
    const user = await h.services.accounts.register(
      { username: uniqueName(), email: `${uniqueName()}@example.org`, password: 'correct horse battery staple' },
      NO_ORIGIN,
    );
    await h.db.deleteFrom('events').where('user_id', '=', user.id).execute();
    // Many events in the same millisecond: the pages must split ties by id, never skip or repeat one.
    const base = h.clock();
    const rows = Array.from({ length: count }, (_, i) => ({
      user_id: user.id,
      tag: EVENT_TAGS.loginFailure,
      ip: `203.0.113.${i % 250}`,
      user_agent: null,
      details: '{}',
      created_at: base + Math.floor(i / 7),
    }));
    for (let i = 0; i < rows.length; i += 400)
      await h.db
        .insertInto('events')
        .values(rows.slice(i, i + 400))
        .execute();
    return user;
  }

  /** The whole file, as the route writes it; `between` runs after the first piece of the history. */
  async function download(user: Awaited<ReturnType<typeof userWithEvents>>, between?: () => Promise<void>) {
    const { text } = await collectAccountData(h.services, user, describeEvent);
    let file = '';
    let pieces = 0;
    for await (const piece of text) {
      file += piece;
      if (++pieces === 2) await between?.();
    }
    return file;
  }

  it.each([0, 1, ACCOUNT_DATA_EVENTS_PER_PAGE, 2 * ACCOUNT_DATA_EVENTS_PER_PAGE + 3])(
    'with %i events: exactly JSON.stringify(data, null, 2), every event once, newest first',
    async (count) => {
      const user = await userWithEvents(count);
      const file = await download(user);
      const data = JSON.parse(file) as { securityHistory: Array<{ description: string }> };
      expect(file).toBe(`${JSON.stringify(data, null, 2)}\n`);
      const expected = await h.services.events.list(user.id, { limit: count + 1 });
      expect(data.securityHistory.map((event) => event.description)).toEqual(expected.map(describeEvent));
      expect(new Set(data.securityHistory.map((event) => event.description)).size).toBe(count);
    },
  );

  it('is the history as it stood when the download began: an event recorded while it is written is not in it', async () => {
    const user = await userWithEvents(2 * ACCOUNT_DATA_EVENTS_PER_PAGE + 3);
    const before = await h.services.events.list(user.id, { limit: 5_000 });
    // Later than every event above (they span 2 * PAGE / 7 ms from the clock's time): as a new event is.
    h.clock.advance(60_000);
    const file = await download(user, async () => {
      await h.services.events.record({ userId: user.id, tag: EVENT_TAGS.loginFailure, origin: NO_ORIGIN });
    });
    const history = (JSON.parse(file) as { securityHistory: Array<{ description: string }> }).securityHistory.map((event) => event.description);
    expect(history).toEqual(before.map(describeEvent));
    expect(await h.services.events.count(user.id)).toBe(before.length + 1);
  });
});
