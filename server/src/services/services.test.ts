import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { EVENT_TAGS, NO_ORIGIN } from './events.js';
import { createLogin } from './login.js';
import { LOGIN_TOKEN_TTL_MS } from './login-tokens.js';
import { createRateLimits, rateLimitMessage } from './rate-limits.js';
import { generateTotpCode } from './totp-code.js';

const PASSWORD = 'correct horse battery staple';
let counter = 0;
const uniqueName = () => `user${Date.now().toString(36)}${(counter++).toString(36)}`;

describe.each(DIALECTS)('services on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  const newUser = () => h.services.accounts.register({ username: uniqueName(), email: 'someone@example.org', password: PASSWORD });

  describe('accounts', () => {
    it('stores usernames canonically and refuses duplicates in any case', async () => {
      const name = uniqueName();
      const user = await h.services.accounts.register({ username: ` ${name.toUpperCase()} `, email: 'a@example.org', password: PASSWORD });
      expect(user.username).toBe(name);
      expect((await h.services.accounts.findByUsername(name.toUpperCase()))?.id).toBe(user.id);
      await expect(h.services.accounts.register({ username: name, email: 'b@example.org', password: PASSWORD })).rejects.toThrow(/already taken/);
    });

    it.each([
      [{ username: '', email: 'a@example.org', password: PASSWORD }, /Enter a username/],
      [{ username: '-bad', email: 'a@example.org', password: PASSWORD }, /must start and end/],
      [{ username: 'x'.repeat(51), email: 'a@example.org', password: PASSWORD }, /at most 50/],
      [{ username: 'okname', email: 'not-an-email', password: PASSWORD }, /valid email/],
      [{ username: 'okname', email: 'a@example.org', password: 'short' }, /at least 12/],
      [{ username: 'okname', email: 'a@example.org', password: 'p'.repeat(1025) }, /at most 1024/],
      // Issue 14 point 5: common passwords the attack got accepted (NIST SP 800-63B 5.1.1.2).
      [{ username: 'okname', email: 'a@example.org', password: 'password1234' }, /commonly used or breached/],
      [{ username: 'okname', email: 'a@example.org', password: 'aaaaaaaaaaaa' }, /repeated or sequential/],
      [{ username: 'okname', email: 'a@example.org', password: '123456789012' }, /commonly used or breached/],
    ])('refuses %j', async (input, message) => {
      await expect(h.services.accounts.register(input)).rejects.toThrow(message);
    });

    it('hashes with argon2id and verifies', async () => {
      const user = await newUser();
      expect(user.password_hash).toMatch(/^\$argon2id\$/);
      expect(await h.services.accounts.verifyPassword(user, PASSWORD)).toBe(true);
      expect(await h.services.accounts.verifyPassword(user, `${PASSWORD}!`)).toBe(false);
      expect(await h.services.accounts.verifyPassword(undefined, PASSWORD)).toBe(false);
    });
  });

  describe('two-factor token T', () => {
    it('is single-use: consume wins once, then says "used"', async () => {
      const user = await newUser();
      const token = await h.services.loginTokens.issue(user);
      expect((await h.services.loginTokens.inspect(token)).ok).toBe(true);
      const results = await Promise.all([h.services.loginTokens.consume(token), h.services.loginTokens.consume(token)]);
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      expect(await h.services.loginTokens.inspect(token)).toEqual({ ok: false, problem: 'used' });
    });

    it('expires after 300 s', async () => {
      const user = await newUser();
      const token = await h.services.loginTokens.issue(user);
      h.clock.advance(LOGIN_TOKEN_TTL_MS - 1000);
      expect((await h.services.loginTokens.inspect(token)).ok).toBe(true);
      h.clock.advance(1000);
      expect(await h.services.loginTokens.inspect(token)).toEqual({ ok: false, problem: 'expired' });
      expect(await h.services.loginTokens.consume(token)).toEqual({ ok: false, problem: 'expired' });
    });

    it('refuses tampering, forgery and garbage', async () => {
      const user = await newUser();
      const other = await newUser();
      const token = await h.services.loginTokens.issue(user);
      const [body, mac] = token.split('.') as [string, string];
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
      const swapped = Buffer.from(JSON.stringify({ ...payload, u: other.id })).toString('base64url');
      for (const bad of [`${swapped}.${mac}`, `${body}.${mac.slice(0, -2)}AA`, body, '', 'a.b', 42, null, 'x'.repeat(2000)]) {
        expect(await h.services.loginTokens.inspect(bad)).toEqual({ ok: false, problem: 'malformed' });
      }
    });

    it('dies when the security epoch changes (password or 2FA change)', async () => {
      const user = await newUser();
      const token = await h.services.loginTokens.issue(user);
      await h.services.accounts.bumpSecurityEpoch(user.id);
      expect(await h.services.loginTokens.inspect(token)).toEqual({ ok: false, problem: 'stale' });
    });
  });

  describe('TOTP', () => {
    it('stores the secret encrypted and refuses a replayed code atomically', async () => {
      const user = await newUser();
      const secret = h.services.totp.generateSecret();
      await h.services.totp.enable(user.id, secret);
      const row = await h.services.accounts.findById(user.id);
      expect(row?.totp_secret_enc).toMatch(/^v1\./);
      expect(row?.totp_secret_enc).not.toContain(secret);
      const code = generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: h.clock() });
      const enabled = row!;
      const results = await Promise.all([h.services.totp.verify(enabled, code), h.services.totp.verify(enabled, code)]);
      expect(results.sort()).toEqual(['ok', 'replayed']);
      // An older (previous-step) code is also refused once a later step was accepted.
      const previous = generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: h.clock() - 30_000 });
      expect(await h.services.totp.verify(enabled, previous)).toBe('replayed');
      h.clock.advance(30_000);
      const next = generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: h.clock() });
      expect(await h.services.totp.verify(enabled, next)).toBe('ok');
      expect(await h.services.totp.verify(enabled, '000000')).toMatch(/invalid|replayed/);
      expect(await h.services.totp.verify(enabled, 'abc')).toBe('malformed');
    });

    it('does not accept a code checked against a secret that was removed or replaced meanwhile', async () => {
      const user = await newUser();
      const secret = h.services.totp.generateSecret();
      await h.services.totp.enable(user.id, secret);
      const readBefore = (await h.services.accounts.findById(user.id))!;
      await h.services.totp.disable(user.id, { ip: null, userAgent: null }, { lastFactorConfirmed: true });
      await h.services.totp.enable(user.id, h.services.totp.generateSecret());
      const code = generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: h.clock() });
      expect(await h.services.totp.verify(readBefore, code)).not.toBe('ok');
    });

    it('turns TOTP on together with what the caller adds in its transaction, or not at all', async () => {
      const origin = { ip: null, userAgent: null };
      const user = await newUser();
      const secret = h.services.totp.generateSecret();
      const code = generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: h.clock() });
      await expect(
        h.services.totp.confirmAndEnable(user.id, secret, code, origin, {
          alsoInTransaction: async (trx) => {
            await h.services.boundTo(trx).recoveryCodes.generate(user.id, origin);
            throw new Error('crash after the codes were written');
          },
        }),
      ).rejects.toThrow('crash after the codes were written');
      expect(await h.services.accounts.twoFactorStatus(user.id)).toMatchObject({ hasTotp: false, recoveryCodesRemaining: 0 });

      let codes: string[] = [];
      await h.services.totp.confirmAndEnable(user.id, secret, code, origin, {
        alsoInTransaction: async (trx) => {
          codes = await h.services.boundTo(trx).recoveryCodes.generate(user.id, origin);
        },
      });
      expect(codes).toHaveLength(8);
      expect(await h.services.accounts.twoFactorStatus(user.id)).toMatchObject({ hasTotp: true, recoveryCodesRemaining: 8 });
    });

    it('confirmAndEnable needs the current code and spends its step', async () => {
      const user = await newUser();
      const secret = h.services.totp.generateSecret();
      await expect(h.services.totp.confirmAndEnable(user.id, secret, '12345', { ip: null, userAgent: null })).rejects.toThrow(/6-digit/);
      const code = generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: h.clock() });
      await h.services.totp.confirmAndEnable(user.id, secret, code, { ip: null, userAgent: null });
      expect(await h.services.totp.verify((await h.services.accounts.findById(user.id))!, code)).toBe('replayed');
      expect((await h.services.accounts.twoFactorStatus(user.id)).hasTotp).toBe(true);
      expect(await h.services.totp.disable(user.id, { ip: null, userAgent: null }, { lastFactorConfirmed: true })).toBe(true);
      expect((await h.services.accounts.twoFactorStatus(user.id)).hasTotp).toBe(false);
      const tags = (await h.services.events.list(user.id)).map((event) => event.tag);
      expect(tags).toEqual(expect.arrayContaining([EVENT_TAGS.methodAdded, EVENT_TAGS.methodRemoved]));
    });
  });

  describe('recovery codes', () => {
    it('generates 8 codes stored as keyed hashes', async () => {
      const user = await newUser();
      const codes = await h.services.recoveryCodes.generate(user.id);
      expect(codes).toHaveLength(8);
      const rows = await h.db.selectFrom('recovery_codes').selectAll().where('user_id', '=', user.id).execute();
      expect(rows).toHaveLength(8);
      for (const row of rows) {
        expect(codes).not.toContain(row.code_hash);
        expect(row.code_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }
      expect(await h.services.recoveryCodes.remaining(user.id)).toBe(8);
    });

    it('burns each code exactly once, even under concurrency, accepting spaces and capitals', async () => {
      const user = await newUser();
      const [code] = (await h.services.recoveryCodes.generate(user.id)) as [string];
      const typed = `${code.slice(0, 4).toUpperCase()} ${code.slice(4, 8)}-${code.slice(8)}`;
      const results = await Promise.all([h.services.recoveryCodes.use(user.id, typed), h.services.recoveryCodes.use(user.id, code)]);
      expect(results.sort()).toEqual(['ok', 'used']);
      expect(await h.services.recoveryCodes.use(user.id, code)).toBe('used');
      expect(await h.services.recoveryCodes.remaining(user.id)).toBe(7);
      expect(await h.services.recoveryCodes.use(user.id, '0123456789abcdef')).toBe('invalid');
      expect(await h.services.recoveryCodes.use(user.id, '123456')).toBe('malformed');
    });

    it('a login that loses its two-factor token to another factor does not spend the recovery code', async () => {
      const user = await newUser();
      await h.services.totp.enable(user.id, h.services.totp.generateSecret());
      const [code] = (await h.services.recoveryCodes.generate(user.id)) as [string];
      const token = await h.services.loginTokens.issue((await h.services.accounts.findById(user.id))!);
      expect(await h.services.recoveryCodes.check(user.id, code)).toBe('ok');
      // The race, made deterministic: T is still unused when the code is checked, and gone (another
      // factor's login used it) by the time this request tries to use it up.
      const login = createLogin({
        ...h.services,
        loginTokens: { ...h.services.loginTokens, consume: async () => ({ ok: false, problem: 'used' }) },
      });
      const result = await login.recoveryCodeStep({ token, code }, { ip: '198.51.100.9', userAgent: 'test' });
      expect(result).toMatchObject({ kind: 'token-problem', problem: 'used' });
      expect(await h.services.recoveryCodes.check(user.id, code)).toBe('ok');
      expect(await h.services.recoveryCodes.remaining(user.id)).toBe(8);
      // And with T intact the same code logs in, once.
      expect(await h.services.login.recoveryCodeStep({ token, code }, { ip: '198.51.100.9', userAgent: 'test' })).toMatchObject({ kind: 'success' });
      expect(await h.services.recoveryCodes.check(user.id, code)).toBe('used');
    });

    it('regenerating voids the old set; codes of one user never work for another', async () => {
      const user = await newUser();
      const other = await newUser();
      const old = await h.services.recoveryCodes.generate(user.id);
      const fresh = await h.services.recoveryCodes.generate(user.id);
      expect(await h.services.recoveryCodes.use(user.id, old[0] as string)).toBe('invalid');
      expect(await h.services.recoveryCodes.use(other.id, fresh[0] as string)).toBe('invalid');
      expect(await h.services.recoveryCodes.use(user.id, fresh[0] as string)).toBe('ok');
    });
  });

  describe('rate limits', () => {
    it('blocks an account after the configured failures, for the rest of the window, then forgets', async () => {
      const rule = h.config.rateLimits.secondFactorPerAccount;
      const subject = { account: `acct-${uniqueName()}`, ip: null };
      const lastAllowed: boolean[] = [];
      for (let i = 0; i < rule.max; i++) {
        const attempt = await h.services.rateLimits.attempt('second-factor', subject);
        if (attempt.blocked) throw new Error(`attempt ${i + 1} of ${rule.max} was blocked`);
        lastAllowed.push(attempt.lastAllowed !== false);
      }
      expect(lastAllowed.filter(Boolean)).toHaveLength(1);
      expect(lastAllowed.at(-1)).toBe(true);
      const verdict = await h.services.rateLimits.check('second-factor', subject);
      expect(verdict).toEqual({ blocked: true, retryAfterMs: rule.windowMs, reason: 'account' });
      expect(await h.services.rateLimits.attempt('second-factor', subject)).toMatchObject({ blocked: true, reason: 'account' });
      expect(rateLimitMessage(rule.windowMs)).toBe('Too many failed attempts. Try again in 15 minutes.');
      h.clock.advance(rule.windowMs);
      expect((await h.services.rateLimits.check('second-factor', subject)).blocked).toBe(false);
      // A new window starts counting from one.
      expect(await h.services.rateLimits.attempt('second-factor', subject)).toEqual({
        blocked: false,
        lastAllowed: false,
        remaining: rule.max - 1,
        pauseMs: rule.windowMs,
      });
      expect((await h.services.rateLimits.check('second-factor', subject)).blocked).toBe(false);
    });

    it('a refunded attempt (right secret) does not count', async () => {
      const rule = h.config.rateLimits.secondFactorPerAccount;
      const subject = { account: `acct-${uniqueName()}`, ip: `203.0.113.7-${uniqueName()}` };
      for (let i = 0; i < rule.max * 2; i++) {
        expect((await h.services.rateLimits.attempt('second-factor', subject)).blocked).toBe(false);
        await h.services.rateLimits.refund('second-factor', subject);
      }
      expect((await h.services.rateLimits.check('second-factor', subject)).blocked).toBe(false);
    });

    it('counts a burst of parallel attempts before any secret is checked: no more than the limit go ahead', async () => {
      const rule = h.config.rateLimits.secondFactorPerAccount;
      const subject = { account: `acct-${uniqueName()}`, ip: null };
      const verdicts = await Promise.all(Array.from({ length: 40 }, () => h.services.rateLimits.attempt('second-factor', subject)));
      expect(verdicts.filter((verdict) => !verdict.blocked)).toHaveLength(rule.max);
    });

    it('blocks an IP across accounts, and counts concurrent failures exactly', async () => {
      const rule = h.config.rateLimits.passwordPerIp;
      const ip = `198.51.${(counter++ % 250) + 1}.${(Date.now() % 250) + 1}`;
      await Promise.all(Array.from({ length: rule.max }, (_, i) => h.services.rateLimits.attempt('password', { account: `a${i}-${uniqueName()}`, ip })));
      const row = await h.db.selectFrom('rate_limits').selectAll().where('key', '=', `password:ip:${ip}`).executeTakeFirstOrThrow();
      expect(row.failures).toBe(rule.max);
      const verdict = await h.services.rateLimits.check('password', { account: 'someone-new', ip });
      expect(verdict).toMatchObject({ blocked: true, reason: 'ip' });
    });

    it('concurrent attempts, refunds and resets on shared counters never deadlock and never go below zero', async () => {
      // Writes touching the same rows (one account, two IPs) in every order: on PostgreSQL a multi-row
      // write that locks rows in scan order deadlocks here (then one request stalls 1 s and fails).
      const account = uniqueName();
      const ips = ['192.0.2.201', '192.0.2.202'];
      const operations = Array.from({ length: 400 }, (_, i) => {
        const subject = { account, ip: ips[i % 2]! };
        if (i % 4 === 0) return h.services.rateLimits.attempt('second-factor', subject);
        if (i % 4 === 1) return h.services.rateLimits.refund('second-factor', subject);
        if (i % 4 === 2) return h.services.rateLimits.succeeded('second-factor', subject);
        return h.services.rateLimits.resetAccount('second-factor', account);
      });
      const outcomes = await Promise.allSettled(operations);
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
      const rows = await h.db
        .selectFrom('rate_limits')
        .select('failures')
        .where('key', 'in', [`second-factor:account:${account}`, ...ips.map((ip) => `second-factor:ip:${ip}`)])
        .execute();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((row) => row.failures >= 0)).toBe(true);
    });

    it('drops counters whose windows ended long ago, keeping current ones', async () => {
      const old = { account: uniqueName(), ip: '192.0.2.221' };
      await h.services.rateLimits.attempt('second-factor', old);
      const { totpGuessesPerYear: _kept, ...windowed } = h.config.rateLimits;
      h.clock.advance(2 * Math.max(...Object.values(windowed).map((rule) => rule.windowMs)));
      const current = { account: uniqueName(), ip: '192.0.2.222' };
      // A fresh limiter's once-a-minute purge is due at once.
      await createRateLimits(h.db, h.config.rateLimits, h.clock, h.services.keys['rate-limit-subject']).attempt('second-factor', current);
      const keysOf = async (subject: { account: string; ip: string }) =>
        (
          await h.db
            .selectFrom('rate_limits')
            .select('key')
            .where('key', 'in', [`second-factor:account:${subject.account}`, `second-factor:ip:${subject.ip}`])
            .orderBy('key')
            .execute()
        ).map((row) => row.key);
      expect(await keysOf(old)).toEqual([]);
      expect(await keysOf(current)).toHaveLength(2);
    });

    it('the login flow locks the second factor and records the lock-out', async () => {
      const user = await newUser();
      await h.services.totp.enable(user.id, h.services.totp.generateSecret());
      // Enabling TOTP bumped the security epoch: issue T for the user as stored now.
      const token = await h.services.loginTokens.issue((await h.services.accounts.findById(user.id))!);
      const origin = { ip: '203.0.113.77', userAgent: 'test' };
      const max = h.config.rateLimits.secondFactorPerAccount.max;
      const results = [];
      for (let i = 0; i <= max; i++) results.push(await h.services.login.totpStep({ token, code: '000000' }, origin));
      expect(results.slice(0, max - 1).map((result) => result.kind)).toEqual(Array(max - 1).fill('invalid'));
      expect(results.at(-1)).toMatchObject({ kind: 'blocked', status: 429, message: expect.stringMatching(/Try again in 15 minutes/) });
      const tags = (await h.services.events.list(user.id)).map((event) => event.tag);
      expect(tags.filter((tag) => tag === EVENT_TAGS.lockout)).toHaveLength(1);
    });
  });

  describe('remembered devices', () => {
    it('are bound to the user and the security epoch, and expire after 30 days', async () => {
      const user = await newUser();
      const other = await newUser();
      const cookie = await h.services.rememberedDevices.issue(user, NO_ORIGIN);
      expect(await h.services.rememberedDevices.isRemembered(cookie, user)).toBe(true);
      expect(await h.services.rememberedDevices.isRemembered(cookie, other)).toBe(false);
      expect(await h.services.rememberedDevices.isRemembered(`${cookie}x`, user)).toBe(false);
      expect(await h.services.rememberedDevices.isRemembered(cookie, { ...user, security_epoch: user.security_epoch + 1 })).toBe(false);
      h.clock.advance(30 * 24 * 60 * 60_000);
      expect(await h.services.rememberedDevices.isRemembered(cookie, user)).toBe(false);
    });
  });
});

describe.each(DIALECTS)('sessions on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  it('expire after 30 idle minutes, are kept alive by use, and end after 12 hours regardless', async () => {
    const user = await h.services.accounts.register({ username: uniqueName(), email: 's@example.org', password: PASSWORD });
    const idle = await h.services.sessions.create(user.id);
    const busy = await h.services.sessions.create(user.id);
    expect(idle.token).not.toBe(busy.token);
    expect(idle.session.id).not.toBe(idle.token);
    for (let minutes = 0; minutes < 12 * 60; minutes += 20) {
      h.clock.advance(20 * 60_000);
      if (minutes === 20) expect(await h.services.sessions.load(idle.token)).toBeNull();
      if (minutes < 12 * 60 - 20) expect(await h.services.sessions.load(busy.token)).not.toBeNull();
    }
    expect(await h.services.sessions.load(busy.token)).toBeNull();
    expect(await h.services.sessions.load('not-a-token')).toBeNull();
  });

  it('show pending recovery codes once and keep them encrypted', async () => {
    const user = await h.services.accounts.register({ username: uniqueName(), email: 's@example.org', password: PASSWORD });
    const { session } = await h.services.sessions.create(user.id);
    const nonce = await h.services.sessions.setPendingRecoveryCodes(session.id, ['0123456789abcdef']);
    const row = await h.db.selectFrom('sessions').select('pending_recovery_codes_enc').where('id', '=', session.id).executeTakeFirstOrThrow();
    expect(row.pending_recovery_codes_enc).not.toContain('0123456789abcdef');
    // A navigation without the nonce (a cross-site link to the show page) does not use the showing up.
    expect(await h.services.sessions.takePendingRecoveryCodes(session.id, undefined)).toBe('wrong-nonce');
    expect(await h.services.sessions.takePendingRecoveryCodes(session.id, `${nonce.slice(1)}x`)).toBe('wrong-nonce');
    expect(await h.services.sessions.takePendingRecoveryCodes(session.id, nonce)).toEqual({ codes: ['0123456789abcdef'], firstTime: false, allUsed: false });
    expect(await h.services.sessions.takePendingRecoveryCodes(session.id, nonce)).toBeNull();
  });
});
