import { AsyncLocalStorage } from 'node:async_hooks';
import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { untilSomeoneWaitsOnALock } from '../testing/held-transaction.js';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { addressBlock } from './address-block.js';
import { EVENT_TAGS, NO_ORIGIN, type RequestOrigin } from './events.js';
import type { SecondFactorResult } from './login.js';
import { generateTotpCode } from './totp-code.js';

/**
 * A double submit of the second step (a double-click on Verify, the extension's auto-submit plus an Enter,
 * a script posting twice): two requests with the same two-factor token T and the same right code. One
 * logs in; the other must not count as a wrong guess — no failure event in the owner's history, nothing
 * taken from the short window or the year's TOTP budget — and answers as a used T. A code someone else
 * already used, sent with their own T, is still a replay and counted (NIST SP 800-63B 5.1.4.2, 5.1.2.2).
 *
 * Free-running rounds show what happens by itself (PostgreSQL interleaves two requests; SQLite's one
 * connection mostly runs the second after the first); pinned interleavings make each order happen on
 * both dialects: the second request passes the token check while T is unused, then checks its code
 * (a) after the first has logged in, (b) while the first has spent the code's step and not yet burnt T.
 */
const ROUNDS = 12;
let counter = 0;
const unique = () => (counter++).toString(36);
/** A client address no other test here uses: its second-factor counter is this test's alone. */
const freshOrigin = (who: string): RequestOrigin => {
  const n = counter++;
  return { ip: `10.${Math.floor(n / 250) % 250}.${n % 250}.${who === 'attacker' ? 66 : 7}`, userAgent: who };
};

/** A promise and the function that settles it: one request tells the other it has reached a point. */
function signal() {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { fire, fired };
}

describe.each(DIALECTS)('a double submit of the second step on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  /** An account with TOTP and recovery codes; T for it; its codes. */
  async function account() {
    const username = `dup${Date.now().toString(36)}${unique()}`;
    const user = await h.services.accounts.register({ username, email: `${username}@example.org`, password: 'correct horse battery staple' }, NO_ORIGIN, {
      emailVerified: true,
    });
    const secret = h.services.totp.generateSecret();
    await h.services.totp.enable(user.id, secret);
    const recoveryCodes = await h.services.recoveryCodes.generate(user.id);
    const issue = async () => h.services.loginTokens.issue((await h.services.accounts.findById(user.id))!);
    const code = (steps = 0) => generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: h.clock() + steps * 30_000 });
    return { user, issue, code, recoveryCodes };
  }

  /** What the account's security history and counters say after a round. */
  async function recorded(userId: string, origin: RequestOrigin) {
    const events = await h.services.events.list(userId);
    const counters = await h.db
      .selectFrom('rate_limits')
      .select('failures')
      .where('key', '=', `second-factor:ip:${addressBlock(origin.ip!)}`)
      .execute();
    const guesses = await h.db.selectFrom('totp_guesses').select('id').where('user_id', '=', userId).execute();
    return {
      logins: events.filter((event) => event.tag === EVENT_TAGS.loginSuccess).length,
      failures: events.filter((event) => event.tag === EVENT_TAGS.secondFactorFailure).map((event) => ({ ip: event.ip, details: event.details })),
      /** Attempts still counted against the address in the short window. */
      counted: counters.reduce((sum, row) => sum + Number(row.failures), 0),
      guesses: guesses.length,
    };
  }

  /** The two answers: the login, and the duplicate answering as a used T. */
  function expectOneLoginAndAUsedToken(results: SecondFactorResult[], round: number | string) {
    expect(results.map((result) => result.kind).sort(), `round ${round}`).toEqual(['success', 'token-problem']);
    expect(
      results.find((result) => result.kind === 'token-problem'),
      `round ${round}`,
    ).toMatchObject({ status: 400, problem: 'used' });
  }

  /** Which of the two requests of a pinned interleaving is running (the held calls tell them apart by it). */
  const role = new AsyncLocalStorage<'first' | 'second'>();

  /**
   * Run `first` and `second` (each a second-step call) with `object[method]` held so that both have passed
   * the token check before either checks its code, and the second checks it only when `secondMayGo` says.
   */
  async function pinned<K extends string>(
    object: Record<K, (...args: never[]) => Promise<unknown>>,
    method: K,
    secondMayGo: (firstRun: Promise<unknown>) => Promise<unknown>,
    first: () => Promise<SecondFactorResult>,
    second: () => Promise<SecondFactorResult>,
  ): Promise<[SecondFactorResult, SecondFactorResult]> {
    const real = object[method];
    const secondArrived = signal();
    let firstRun!: Promise<SecondFactorResult>;
    const held = async (...args: never[]) => {
      const me = role.getStore();
      if (me === 'first') await secondArrived.fired;
      else if (me === 'second') {
        secondArrived.fire();
        await secondMayGo(firstRun);
      }
      return real.apply(object, args);
    };
    object[method] = held as (typeof object)[K];
    try {
      firstRun = role.run('first', first);
      const secondRun = role.run('second', second);
      return await Promise.all([firstRun, secondRun]);
    } finally {
      object[method] = real;
    }
  }

  describe('authentication-app code', () => {
    it('free-running: one login, the other answers "used"; no failure, no guess, no counted attempt', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { user, issue, code } = await account();
        const token = await issue();
        const origin = freshOrigin('owner');
        const right = code();
        const results = await Promise.all([
          h.services.login.totpStep({ token, code: right }, origin),
          h.services.login.totpStep({ token, code: right }, origin),
        ]);
        expectOneLoginAndAUsedToken(results, round);
        expect(await recorded(user.id, origin), `round ${round}`).toEqual({ logins: 1, failures: [], counted: 0, guesses: 0 });
      }
    });

    it('pinned (a): the duplicate checks the code after the first request logged in', async () => {
      const { user, issue, code } = await account();
      const token = await issue();
      const origin = freshOrigin('owner');
      const step = () => h.services.login.totpStep({ token, code: code() }, origin);
      const results = await pinned(h.services.totp, 'verify', (firstSettled) => firstSettled, step, step);
      expect(results[0].kind).toBe('success');
      expect(results[1]).toMatchObject({ kind: 'token-problem', problem: 'used', message: 'This login link has already been used. Please log in again.' });
      expect(await recorded(user.id, origin)).toEqual({ logins: 1, failures: [], counted: 0, guesses: 0 });
    });

    /**
     * (b): the first request has spent the step and is about to burn T when the duplicate checks its code.
     * The step and the burn commit together, so the duplicate's check waits for both (PostgreSQL: the
     * user's row lock; SQLite: the one connection) and then finds T used. Were they two commits, it would
     * find the step spent and T still unused here, and count a failure.
     */
    const betweenStepAndBurn = async (tokens: { first: string; second: string }, code: string, origins: { first: RequestOrigin; second: RequestOrigin }) => {
      const realConsume = h.services.loginTokens.consume;
      const firstBurning = signal();
      const secondChecked = signal();
      h.services.loginTokens.consume = async (token, options) => {
        if (role.getStore() !== 'first') return realConsume(token, options);
        firstBurning.fire();
        // Let the second request's check start, and on PostgreSQL reach the first's lock (or finish, had it none to wait for).
        await Promise.race([untilSomeoneWaitsOnALock(h.db, dialect).catch(() => undefined), secondChecked.fired]);
        return realConsume(token, options);
      };
      try {
        return await pinned(
          h.services.totp,
          'verify',
          () => firstBurning.fired,
          () => h.services.login.totpStep({ token: tokens.first, code }, origins.first),
          async () => {
            try {
              return await h.services.login.totpStep({ token: tokens.second, code }, origins.second);
            } finally {
              secondChecked.fire();
            }
          },
        );
      } finally {
        h.services.loginTokens.consume = realConsume;
      }
    };

    it('pinned (b): the duplicate checks the code while the first request has spent its step and not yet burnt T', async () => {
      const { user, issue, code } = await account();
      const token = await issue();
      const origin = freshOrigin('owner');
      const results = await betweenStepAndBurn({ first: token, second: token }, code(), { first: origin, second: origin });
      expect(results[0].kind).toBe('success');
      expect(results[1]).toMatchObject({ kind: 'token-problem', problem: 'used' });
      expect(await recorded(user.id, origin)).toEqual({ logins: 1, failures: [], counted: 0, guesses: 0 });
    });

    it('two different right codes with one T (the code changed between the clicks): one login, the other withdrawn', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { user, issue, code } = await account();
        const token = await issue();
        const origin = freshOrigin('owner');
        const results = await Promise.all([
          h.services.login.totpStep({ token, code: code(0) }, origin),
          h.services.login.totpStep({ token, code: code(1) }, origin),
        ]);
        expectOneLoginAndAUsedToken(results, round);
        expect(await recorded(user.id, origin), `round ${round}`).toEqual({ logins: 1, failures: [], counted: 0, guesses: 0 });
      }
    });

    it('an attacker replaying the code the owner just used, with their own T, is refused and counted as before', async () => {
      const { user, issue, code } = await account();
      const owner = freshOrigin('owner');
      const attacker = freshOrigin('attacker');
      const used = code();
      expect((await h.services.login.totpStep({ token: await issue(), code: used }, owner)).kind).toBe('success');
      const replay = await h.services.login.totpStep({ token: await issue(), code: used }, attacker);
      expect(replay).toMatchObject({ kind: 'invalid', status: 401, message: expect.stringContaining('This code has already been used.') });
      expect(await recorded(user.id, attacker)).toEqual({ logins: 1, failures: [{ ip: attacker.ip, details: { method: 'totp' } }], counted: 1, guesses: 1 });
    });

    it('the same replay in the duplicate’s exact window (b), with the attacker’s own T: still refused and counted', async () => {
      const { user, issue, code } = await account();
      const owner = freshOrigin('owner');
      const attacker = freshOrigin('attacker');
      const results = await betweenStepAndBurn({ first: await issue(), second: await issue() }, code(), { first: owner, second: attacker });
      expect(results[0].kind).toBe('success');
      expect(results[1]).toMatchObject({ kind: 'invalid', status: 401, message: expect.stringContaining('This code has already been used.') });
      expect(await recorded(user.id, attacker)).toEqual({ logins: 1, failures: [{ ip: attacker.ip, details: { method: 'totp' } }], counted: 1, guesses: 1 });
    });

    it('the same replay in window (a), with the attacker’s own T: still refused and counted', async () => {
      const { user, issue, code } = await account();
      const owner = freshOrigin('owner');
      const attacker = freshOrigin('attacker');
      const [ownerToken, attackerToken] = [await issue(), await issue()];
      const used = code();
      const results = await pinned(
        h.services.totp,
        'verify',
        (firstSettled) => firstSettled,
        () => h.services.login.totpStep({ token: ownerToken, code: used }, owner),
        () => h.services.login.totpStep({ token: attackerToken, code: used }, attacker),
      );
      expect(results[0].kind).toBe('success');
      expect(results[1]).toMatchObject({ kind: 'invalid', status: 401 });
      expect(await recorded(user.id, attacker)).toEqual({ logins: 1, failures: [{ ip: attacker.ip, details: { method: 'totp' } }], counted: 1, guesses: 1 });
    });
  });

  describe('security key', () => {
    it('a right key whose T went to the other request of the same login gives its attempt back', async () => {
      const { user, issue } = await account();
      const token = await issue();
      const origin = freshOrigin('owner');
      // Both requests passed the gate with T unused; the other one (any factor) then used T up.
      const gates = [await h.services.login.attemptSecondFactor(token, origin), await h.services.login.attemptSecondFactor(token, origin)];
      if (gates[0]!.kind !== 'ready' || gates[1]!.kind !== 'ready') throw new Error('the gate refused');
      expect((await h.services.login.completeSecondFactor(gates[0]!, token, 'webauthn', origin)).kind).toBe('success');
      // The assertion of this one was checked and right too (webauthn.ts): only T is gone.
      expect(await h.services.login.completeSecondFactor(gates[1]!, token, 'webauthn', origin)).toMatchObject({ kind: 'token-problem', problem: 'used' });
      expect(await recorded(user.id, origin)).toEqual({ logins: 1, failures: [], counted: 0, guesses: 0 });
    });
  });

  describe('recovery code (single-use)', () => {
    it('free-running: one login with the code burnt once, the other answers "used"; no failure, no counted attempt', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { user, issue, recoveryCodes } = await account();
        const token = await issue();
        const origin = freshOrigin('owner');
        const code = recoveryCodes[0]!;
        const results = await Promise.all([
          h.services.login.recoveryCodeStep({ token, code }, origin),
          h.services.login.recoveryCodeStep({ token, code }, origin),
        ]);
        expectOneLoginAndAUsedToken(results, round);
        expect(await recorded(user.id, origin), `round ${round}`).toEqual({ logins: 1, failures: [], counted: 0, guesses: 0 });
        expect(await h.services.recoveryCodes.remaining(user.id)).toBe(7);
      }
    });

    it('pinned: the duplicate looks its code up after the first request burnt it', async () => {
      const { user, issue, recoveryCodes } = await account();
      const token = await issue();
      const origin = freshOrigin('owner');
      const step = () => h.services.login.recoveryCodeStep({ token, code: recoveryCodes[0]! }, origin);
      const results = await pinned(h.services.recoveryCodes, 'check', (firstSettled) => firstSettled, step, step);
      expect(results[0].kind).toBe('success');
      expect(results[1]).toMatchObject({ kind: 'token-problem', problem: 'used' });
      expect(await recorded(user.id, origin)).toEqual({ logins: 1, failures: [], counted: 0, guesses: 0 });
    });

    it('pinned: both find the code unused, the first takes T; the second gives its attempt back', async () => {
      const { user, issue, recoveryCodes } = await account();
      const token = await issue();
      const origin = freshOrigin('owner');
      const step = () => h.services.login.recoveryCodeStep({ token, code: recoveryCodes[0]! }, origin);
      // Both look the code up at once (neither has burnt it yet); then each goes on to take T.
      const results = await pinned(h.services.recoveryCodes, 'check', async () => undefined, step, step);
      expectOneLoginAndAUsedToken(results, 'both ok');
      expect(await recorded(user.id, origin)).toEqual({ logins: 1, failures: [], counted: 0, guesses: 0 });
      expect(await h.services.recoveryCodes.remaining(user.id)).toBe(7);
    });

    it('an attacker sending a recovery code the owner used, with their own T, is refused and counted as before — also in the duplicate’s window', async () => {
      const { user, issue, recoveryCodes } = await account();
      const owner = freshOrigin('owner');
      const attacker = freshOrigin('attacker');
      const [ownerToken, attackerToken] = [await issue(), await issue()];
      const results = await pinned(
        h.services.recoveryCodes,
        'check',
        (firstSettled) => firstSettled,
        () => h.services.login.recoveryCodeStep({ token: ownerToken, code: recoveryCodes[0]! }, owner),
        () => h.services.login.recoveryCodeStep({ token: attackerToken, code: recoveryCodes[0]! }, attacker),
      );
      expect(results[0].kind).toBe('success');
      expect(results[1]).toMatchObject({ kind: 'invalid', status: 401, message: expect.stringContaining('This recovery code has already been used.') });
      expect(await recorded(user.id, attacker)).toEqual({
        logins: 1,
        failures: [{ ip: attacker.ip, details: { method: 'recovery_code' } }],
        counted: 1,
        guesses: 0,
      });
      // And plainly afterwards, with another fresh T.
      const again = await h.services.login.recoveryCodeStep({ token: await issue(), code: recoveryCodes[0]! }, attacker);
      expect(again).toMatchObject({ kind: 'invalid', status: 401 });
      expect((await recorded(user.id, attacker)).failures).toHaveLength(2);
    });
  });
});
