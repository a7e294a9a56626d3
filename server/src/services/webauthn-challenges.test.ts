import { describe, expect, it } from 'vitest';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { CHALLENGE_TTL_MS, consumeChallenge, MAX_OPEN_CHALLENGES_PER_USER, storeChallenge } from './webauthn-challenges.js';

const LOGIN_A = { ceremony: 'authentication', login: 'token of login A' } as const;
const REGISTRATION = { ceremony: 'registration' } as const;

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

  it('are usable once, by their user, for their ceremony (a login’s for that login), within five minutes', async () => {
    const [alice, bob] = [await newUserId(), await newUserId()];
    const now = h.clock();
    await storeChallenge(h.db, 'ch-1', alice, LOGIN_A, now);
    expect(await consumeChallenge(h.db, 'ch-1', bob, LOGIN_A, now)).toBe(false);
    expect(await consumeChallenge(h.db, 'ch-1', alice, REGISTRATION, now)).toBe(false);
    expect(await consumeChallenge(h.db, 'ch-1', alice, LOGIN_A, now + CHALLENGE_TTL_MS)).toBe(false);
    // Another login of the same account (QA h5: its answer completed any pending login), or none at all.
    expect(await consumeChallenge(h.db, 'ch-1', alice, { ceremony: 'authentication', login: 'token of login B' }, now)).toBe(false);
    expect(await consumeChallenge(h.db, 'ch-1', alice, { ceremony: 'authentication', login: '' }, now)).toBe(false);
    expect(await consumeChallenge(h.db, 'ch-1', alice, LOGIN_A, now)).toBe(true);
    expect(await consumeChallenge(h.db, 'ch-1', alice, LOGIN_A, now)).toBe(false);
  });

  it(`keep at most ${MAX_OPEN_CHALLENGES_PER_USER} open per user: asking in a loop drops the oldest, not other users' ones`, async () => {
    const [alice, bob] = [await newUserId(), await newUserId()];
    const now = h.clock();
    await storeChallenge(h.db, 'bob-1', bob, LOGIN_A, now);
    const total = MAX_OPEN_CHALLENGES_PER_USER + 5;
    for (let i = 0; i < total; i++) await storeChallenge(h.db, `alice-${i}`, alice, LOGIN_A, now + i);
    const open = await h.db.selectFrom('webauthn_challenges').select('challenge').where('user_id', '=', alice).execute();
    expect(open).toHaveLength(MAX_OPEN_CHALLENGES_PER_USER);
    expect(await consumeChallenge(h.db, 'alice-0', alice, LOGIN_A, now)).toBe(false);
    expect(await consumeChallenge(h.db, `alice-${total - 1}`, alice, LOGIN_A, now)).toBe(true);
    expect(await consumeChallenge(h.db, 'bob-1', bob, LOGIN_A, now)).toBe(true);
  });
});
