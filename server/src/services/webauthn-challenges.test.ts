import { describe, expect, it } from 'vitest';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { CHALLENGE_TTL_MS, consumeChallenge, MAX_OPEN_CHALLENGES_PER_USER, storeChallenge } from './webauthn-challenges.js';

describe.each(DIALECTS)('WebAuthn challenges on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  const newUserId = async () =>
    (
      await h.services.accounts.register({
        username: `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`,
        email: 'c@example.org',
        password: 'correct horse battery staple',
      })
    ).id;

  it('are usable once, by their user, for their ceremony, within five minutes', async () => {
    const [alice, bob] = [await newUserId(), await newUserId()];
    const now = h.clock();
    await storeChallenge(h.db, 'ch-1', alice, 'authentication', now);
    expect(await consumeChallenge(h.db, 'ch-1', bob, 'authentication', now)).toBe(false);
    expect(await consumeChallenge(h.db, 'ch-1', alice, 'registration', now)).toBe(false);
    expect(await consumeChallenge(h.db, 'ch-1', alice, 'authentication', now + CHALLENGE_TTL_MS)).toBe(false);
    expect(await consumeChallenge(h.db, 'ch-1', alice, 'authentication', now)).toBe(true);
    expect(await consumeChallenge(h.db, 'ch-1', alice, 'authentication', now)).toBe(false);
  });

  it(`keep at most ${MAX_OPEN_CHALLENGES_PER_USER} open per user: asking in a loop drops the oldest, not other users' ones`, async () => {
    const [alice, bob] = [await newUserId(), await newUserId()];
    const now = h.clock();
    await storeChallenge(h.db, 'bob-1', bob, 'authentication', now);
    const total = MAX_OPEN_CHALLENGES_PER_USER + 5;
    for (let i = 0; i < total; i++) await storeChallenge(h.db, `alice-${i}`, alice, 'authentication', now + i);
    const open = await h.db.selectFrom('webauthn_challenges').select('challenge').where('user_id', '=', alice).execute();
    expect(open).toHaveLength(MAX_OPEN_CHALLENGES_PER_USER);
    expect(await consumeChallenge(h.db, 'alice-0', alice, 'authentication', now)).toBe(false);
    expect(await consumeChallenge(h.db, `alice-${total - 1}`, alice, 'authentication', now)).toBe(true);
    expect(await consumeChallenge(h.db, 'bob-1', bob, 'authentication', now)).toBe(true);
  });
});
