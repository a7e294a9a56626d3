import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceHarness, DIALECTS, type ServiceHarness } from '../testing/service-harness.js';
import { StatementCounter } from '../testing/statement-counter.js';
import { createServices, type Services } from './index.js';
import { generateTotpCode } from './totp-code.js';

const ORIGIN = { ip: '192.0.2.7', userAgent: 'test' };

// Every wrong code is a database round trip per statement (on PostgreSQL, a network one): the second
// step is the path people and attackers hit most, so its statement count is pinned here, exactly.
describe.each(DIALECTS)('second-step statements on %s', (dialect) => {
  let h: ServiceHarness;
  let counter: StatementCounter;
  let counted: Services;
  beforeAll(async () => {
    h = await createServiceHarness(dialect);
    counter = new StatementCounter();
    counted = createServices(h.db.withPlugin(counter), h.config, { now: h.clock });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function totpLogin() {
    const user = await h.services.accounts.register({
      username: `s${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
      email: 'a@example.org',
      password: 'correct horse battery staple',
    });
    const secret = h.services.totp.generateSecret();
    await h.services.totp.enable(user.id, secret);
    const token = await h.services.loginTokens.issue((await h.services.accounts.findById(user.id))!);
    const code = (steps: number) => generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: h.clock() + steps * 30_000 });
    return { user, token, code };
  }

  const measure = async (run: () => Promise<unknown>) => {
    const before = counter.count;
    await run();
    return counter.count - before;
  };

  it("a wrong code: token + user (1), rate-limit counters (1), the year's TOTP budget (2: write the guess down, count), the failure event with the address its notice would go to (1)", async () => {
    const { user, token, code } = await totpLogin();
    // A code from 5 minutes ago: well-formed, outside the ±1 step window.
    const wrong = code(-10);
    // The first attempt of a fresh service also purges expired counters (at most once a minute).
    await counted.login.totpStep({ token, code: wrong }, ORIGIN);
    const result = await counted.login.totpStep({ token, code: wrong }, ORIGIN);
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.user?.id).toBe(user.id);
    // The account has no verified address: the notice lookup finds none, so no throttle or outbox write follows.
    expect(await measure(() => counted.login.totpStep({ token, code: wrong }, ORIGIN))).toBe(5);
    expect(await measure(() => counted.accounts.twoFactorStatus(user.id))).toBe(1);
  });

  it('showing the second-step page: the token check reads user and nonce in one statement', async () => {
    const { token } = await totpLogin();
    expect(await measure(async () => expect((await counted.loginTokens.inspect(token)).ok).toBe(true))).toBe(1);
  });

  it('arriving on the second-step page: the token and what is locked, in one statement, and each token problem said', async () => {
    const { user, code } = await totpLogin();
    const account = (await h.services.accounts.findById(user.id))!;
    const token = await h.services.loginTokens.issue(account, await h.services.accounts.twoFactorStatus(user.id));
    const arrive = async (t: unknown) => {
      let page: Awaited<ReturnType<Services['login']['secondStepPage']>> | undefined;
      const statements = await measure(async () => (page = await counted.login.secondStepPage(t, ORIGIN)));
      return { page: page!, statements };
    };
    expect(await arrive(token)).toEqual({
      page: { ok: true, userId: user.id, methods: { hasTotp: true, hasSecurityKey: false }, locks: { all: null, totp: null } },
      statements: 1,
    });
    // Locks are read with it: five wrong codes pause every factor, which the page says on arrival.
    for (let i = 0; i < h.config.rateLimits.secondFactorPerAccount.max; i++) await h.services.login.totpStep({ token, code: code(-10) }, ORIGIN);
    const locked = await arrive(token);
    expect(locked.statements).toBe(1);
    expect(locked.page).toMatchObject({ ok: true, locks: { all: { message: expect.stringContaining('Too many failed attempts') } } });
    // Forged and expired tokens are refused before any statement.
    expect(await arrive(`${token.slice(0, -2)}xx`)).toEqual({ page: { ok: false, problem: 'malformed' }, statements: 0 });
    expect(await arrive(42)).toEqual({ page: { ok: false, problem: 'malformed' }, statements: 0 });
    // A used nonce, a moved epoch and a deleted account are each told apart, in the one statement.
    const used = await h.services.loginTokens.issue(account);
    expect((await h.services.loginTokens.consume(used)).ok).toBe(true);
    expect(await arrive(used)).toEqual({ page: { ok: false, problem: 'used' }, statements: 1 });
    // inspect, which the code checks use, answers as the page does.
    expect(await h.services.loginTokens.inspect(used)).toEqual({ ok: false, problem: 'used' });
    const stale = await h.services.loginTokens.issue(account);
    await h.services.totp.disable(user.id, ORIGIN, { lastFactorConfirmed: true });
    expect(await arrive(stale)).toEqual({ page: { ok: false, problem: 'stale' }, statements: 1 });
    const gone = await totpLogin();
    await h.db.deleteFrom('users').where('id', '=', gone.user.id).execute();
    expect(await arrive(gone.token)).toEqual({ page: { ok: false, problem: 'malformed' }, statements: 1 });
    expect(await h.services.loginTokens.inspect(stale)).toEqual({ ok: false, problem: 'stale' });
    expect(await h.services.loginTokens.inspect(gone.token)).toEqual({ ok: false, problem: 'malformed' });
  });

  it('asking for security-key options: the token and the limits in one statement', async () => {
    const { user, token, code } = await totpLogin();
    const begin = async (t: unknown) => {
      let gate: Awaited<ReturnType<Services['login']['beginSecondFactor']>> | undefined;
      const statements = await measure(async () => (gate = await counted.login.beginSecondFactor(t, ORIGIN)));
      return { gate: gate!, statements };
    };
    expect(await begin(token)).toEqual({ gate: { kind: 'ready', userId: user.id }, statements: 1 });
    expect(await begin('not a token')).toMatchObject({ gate: { kind: 'token-problem', problem: 'malformed' }, statements: 0 });
    for (let i = 0; i < h.config.rateLimits.secondFactorPerAccount.max; i++) await h.services.login.totpStep({ token, code: code(-10) }, ORIGIN);
    expect(await begin(token)).toMatchObject({ gate: { kind: 'blocked', status: 429 }, statements: 1 });
    // A used token is said as such even while the account is paused: the token is checked first, as before.
    expect((await h.services.loginTokens.consume(token)).ok).toBe(true);
    expect(await begin(token)).toMatchObject({ gate: { kind: 'token-problem', problem: 'used' }, statements: 1 });
  });

  it('the page learns the factors from the token (no statement), which a factor change makes stale', async () => {
    const { user } = await totpLogin();
    const account = (await h.services.accounts.findById(user.id))!;
    const token = await h.services.loginTokens.issue(account, await h.services.accounts.twoFactorStatus(user.id));
    expect(await measure(async () => expect(counted.loginTokens.methods(token)).toEqual({ hasTotp: true, hasSecurityKey: false }))).toBe(0);
    // Issued without them (or by an older server): the page reads them from the database instead.
    expect(h.services.loginTokens.methods(await h.services.loginTokens.issue(account))).toBeNull();
    // Forged or altered factors do not pass the signature.
    const [body, mac] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), m: 3 })).toString('base64url');
    expect(h.services.loginTokens.methods(`${forged}.${mac}`)).toBeNull();
    // Turning TOTP off moves the security epoch: the token, and the factors it carries, are no longer accepted.
    await h.services.totp.disable(user.id, ORIGIN, { lastFactorConfirmed: true });
    expect(await h.services.loginTokens.inspect(token)).toEqual({ ok: false, problem: 'stale' });
  });

  it('the page reads what is locked — the short window’s counters and the year’s TOTP budget — in one statement', async () => {
    const { user, token, code } = await totpLogin();
    const account = (await h.services.accounts.findById(user.id))!;
    const locks = async () => {
      let read: Awaited<ReturnType<Services['login']['secondFactorLocks']>> | undefined;
      expect(await measure(async () => (read = await counted.login.secondFactorLocks(account.id, ORIGIN)))).toBe(1);
      return read!;
    };
    expect(await locks()).toEqual({ all: null, totp: null });
    // Spend the year's budget but one, then one more wrong code: the app is refused, other factors are not.
    const budget = h.config.rateLimits.totpGuessesPerYear.max;
    await h.db
      .insertInto('totp_guesses')
      .values(Array.from({ length: budget - 1 }, (_, i) => ({ user_id: user.id, guessed_at: h.clock() - (i + 1) * 1000 })))
      .execute();
    expect((await locks()).totp).toBeNull();
    const refusal = await counted.login.totpStep({ token, code: code(-10) }, ORIGIN);
    expect(refusal).toMatchObject({ kind: 'invalid', locks: { all: null, totp: { message: expect.stringContaining('codes from the app are refused') } } });
    expect(await locks()).toMatchObject({ all: null, totp: { message: expect.stringContaining('codes from the app are refused') } });
    // Another account's guesses are not this one's.
    const other = await totpLogin();
    expect(await counted.login.secondFactorLocks(other.user.id, ORIGIN)).toEqual({ all: null, totp: null });
  });

  it('a right code logs in exactly once and leaves the account with no failures counted', async () => {
    const { user, token, code } = await totpLogin();
    const result = await counted.login.totpStep({ token, code: code(0) }, ORIGIN);
    expect(result).toMatchObject({ kind: 'success', user: { id: user.id } });
    expect((await counted.login.totpStep({ token, code: code(1) }, ORIGIN)).kind).toBe('token-problem');
    const counters = await h.db
      .selectFrom('rate_limits')
      .select(['key', 'failures'])
      .where('key', 'like', `second-factor:%:${user.id}`)
      .orderBy('key')
      .execute();
    expect(counters).toEqual([{ key: `second-factor:account:${user.id}`, failures: 0 }]);
    // The right code took nothing from the year's TOTP budget.
    expect(await h.db.selectFrom('totp_guesses').select('id').where('user_id', '=', user.id).execute()).toEqual([]);
  });
});
