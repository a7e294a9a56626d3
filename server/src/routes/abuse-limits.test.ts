/**
 * Issue 14 points 2–4 over HTTP, as the attack ran them: many client addresses (one proxy hop in
 * front, LATCHKEY_TRUST_PROXY=1, so X-Forwarded-For names the client), shipped limits throughout.
 */
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { DEFAULT_RATE_LIMITS, DEFAULT_REQUEST_LIMITS, testConfig } from '../config.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { startServer, type RunningServer } from '../main.js';
import { softAuthenticator } from '@latchkey/test/soft-authenticator';
import { NO_ORIGIN } from '../services/events.js';
import { generateTotpCode } from '../services/totp-code.js';
import { ClientAt, type TestBrowser } from '../testing/browser.js';
import { DIALECTS } from '../testing/service-harness.js';

const PASSWORD = 'correct horse battery staple';
let counter = 0;
const uniqueName = () => `a${Date.now().toString(36)}${(counter++).toString(36)}`;

describe.each(DIALECTS)('limits under attack on %s', (dialect) => {
  let server: RunningServer;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabaseUrl(dialect);
    server = await startServer(
      testConfig({ databaseUrl: database.databaseUrl, trustProxy: 1, rateLimits: DEFAULT_RATE_LIMITS, requestLimits: DEFAULT_REQUEST_LIMITS }),
    );
    drop = database.drop;
  });
  afterAll(async () => {
    await server?.close();
    await drop?.();
  });

  const at = (ip: string) => new ClientAt(server.url, ip);
  const seed = (username = uniqueName()) => server.services.accounts.register({ username, email: `${username}@example.org`, password: PASSWORD });
  const login = async (client: TestBrowser, username: string, password = PASSWORD) => {
    await client.get(ROUTES.login);
    return client.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: password });
  };

  it('1 000 wrong passwords from 50 addresses do not stop the owner: another network, a remembered device, a live session', { timeout: 180_000 }, async () => {
    const owner = await seed();
    const withApp = await seed();
    await server.services.totp.enable(withApp.id, server.services.totp.generateSecret());
    const attackers = Array.from({ length: 50 }, (_, i) => at(`198.18.${i}.1`));
    // The owner is logged in before the attack (a live session that must be able to re-authenticate).
    const session = at('192.0.2.200');
    expect((await login(session, owner.username)).status).toBe(303);
    // The second owner's browser remembers this device; it sits on one of the attack's own addresses.
    const remembered = at('198.18.0.1');
    remembered.cookies.set('latchkey_device', await server.services.rememberedDevices.issue((await server.services.accounts.findById(withApp.id))!, NO_ORIGIN));

    const statuses = new Map<number, number>();
    const attack = async (rounds: number) => {
      await Promise.all(
        attackers.map(async (client) => {
          if (!client.csrfToken) await client.get(ROUTES.login);
          for (let i = 0; i < rounds; i++) {
            for (const victim of [owner.username, withApp.username]) {
              const response = await client.post(ROUTES.login, { [FIELDS.username]: victim, [FIELDS.password]: `wrong ${i}` });
              statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            }
          }
        }),
      );
    };
    await attack(5); // 500 wrong passwords
    expect((await login(at('192.0.2.201'), owner.username)).location).toBe(ROUTES.manageAccount);
    await attack(5); // 1 000 in all
    expect([...statuses.keys()].sort()).toEqual([401, 429]);
    expect([...statuses.values()].reduce((a, b) => a + b)).toBe(1000);

    // The owner, at the first try, from a network the attack does not use.
    const elsewhere = await login(at('192.0.2.202'), owner.username);
    expect(elsewhere.status).toBe(303);
    expect(elsewhere.location).toBe(ROUTES.manageAccount);
    // The other owner, from the attack's own address, on the remembered device: straight in.
    const device = await login(remembered, withApp.username);
    expect(device.status).toBe(303);
    expect(device.location).toBe(ROUTES.manageAccount);
    // The live session confirms a security change with its password.
    await session.get(ROUTES.manageAccount);
    const reauth = await session.post(ROUTES.totpProvisionRemove, { [FIELDS.password]: PASSWORD });
    expect(reauth.status).toBe(303);
    // The attack got few guesses: the account-wide budget (10 per 15 minutes), then one per new address a day.
    const evaluated = (await server.services.events.list(owner.id, { limit: 2000 })).filter((event) => event.tag === 'account:login:failure').length;
    expect(evaluated).toBeLessThanOrEqual(DEFAULT_RATE_LIMITS.passwordPerAccountAllPlaces.max + attackers.length);
  });

  it('limits IPv6 clients per /64: 60 wrong passwords from one /64 meet the per-address limit', async () => {
    const limit = DEFAULT_RATE_LIMITS.passwordPerIp.max;
    const statuses: number[] = [];
    for (let i = 1; i <= limit + 10; i++) {
      // A new address (and account) every time, all in 2001:db8:14:3::/64.
      const response = await login(at(`2001:db8:14:3:${i.toString(16)}::${(i * 7).toString(16)}`), uniqueName(), 'not the password');
      statuses.push(response.status);
    }
    expect(statuses.slice(0, limit).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(limit)).toEqual(Array(10).fill(429));
  });

  it('uses a forwarded value only when it is an IP address; otherwise the socket address', async () => {
    const client = at('not-an-ip:consecutive:x');
    const user = await seed();
    expect((await login(client, user.username, 'not the password')).status).toBe(401);
    const keys = (await server.services.db.selectFrom('rate_limits').select('key').execute()).map((row) => row.key);
    expect(keys.filter((key) => key.includes('not-an-ip'))).toEqual([]);
    const [failure] = await server.services.events.list(user.id, { limit: 1 });
    expect(failure?.ip).toBe('127.0.0.1');
  });

  it('limits registration per address with a clear 429 and Retry-After; other addresses still register', async () => {
    const limit = DEFAULT_REQUEST_LIMITS.register.perAddress!.max;
    // Each registration from a new browser (a registration logs the browser in) on one address.
    const register = async (ip: string, username: string) => {
      const b = at(ip);
      await b.get(ROUTES.register);
      return b.post(ROUTES.register, {
        [FIELDS.username]: username,
        [FIELDS.email]: `${username}@example.org`,
        [FIELDS.newPassword]: PASSWORD,
        [FIELDS.passwordConfirm]: PASSWORD,
      });
    };
    const taken = (await seed()).username;
    const statuses: number[] = [];
    // New names and one that is taken: probing names costs an attempt too.
    for (let i = 0; i < limit; i++) statuses.push((await register('203.0.113.140', i === 3 ? taken : uniqueName())).status);
    expect(statuses.filter((status) => status === 409)).toHaveLength(1);
    expect(statuses.filter((status) => status === 303)).toHaveLength(limit - 1);
    const refused = await register('203.0.113.140', uniqueName());
    expect(refused.status).toBe(429);
    expect(refused.text).toContain('Too many account registrations from your network. Try again in 60 minutes.');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
    expect((await register('203.0.113.141', uniqueName())).status).toBe(303);
  });

  describe('the two-factor page says what is locked (issue 17 point 9)', () => {
    /** An account with the app and recovery codes on (and a security key with `key`), logged in up to the second step from `ip`; returns the step's URL. */
    const secondStep = async (ip: string, { key = false } = {}) => {
      const user = await seed();
      const secret = server.services.totp.generateSecret();
      await server.services.totp.enable(user.id, secret);
      // Codes to fall back on: the page offers the recovery-code form only to an account that has some left.
      await server.services.recoveryCodes.generate(user.id);
      if (key) {
        const creation = await server.services.webauthn.registrationOptions({ id: user.id, username: user.username }, 'Key');
        await server.services.webauthn.register(
          user.id,
          softAuthenticator().createRegistrationResponse(creation, { origin: server.services.config.origin }),
          'Key',
          NO_ORIGIN,
        );
      }
      const client = at(ip);
      const step = await login(client, user.username);
      expect(step.location).toMatch(/^\/account\/two-factor\/\?token=/);
      const code = () => generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: Date.now() });
      return { user, client, url: step.location!, code };
    };
    /** Writes down `count` wrong app codes for the account, a second apart, the newest a second ago. */
    const guessed = async (userId: string, count: number) => {
      const now = Date.now();
      await server.services.db
        .insertInto('totp_guesses')
        .values(Array.from({ length: count }, (_, i) => ({ user_id: userId, guessed_at: now - (i + 1) * 1000 })))
        .execute();
    };

    it('counts down the attempts left before the pause, then says so on arrival and stops offering recovery codes', async () => {
      const { client, url, code } = await secondStep('192.0.2.50');
      const max = DEFAULT_RATE_LIMITS.secondFactorPerAccount.max;
      const first = await client.post(url, { [FIELDS.totpValue]: '000000' });
      expect(first.status).toBe(401);
      expect(first.text).toContain(`${max - 1} attempts left before two-factor login is paused for 15 minutes.`);
      for (let i = 2; i < max - 1; i++) await client.post(url, { [FIELDS.totpValue]: '000000' });
      const last = await client.post(url, { [FIELDS.totpValue]: '000000' });
      expect(last.text).toContain('1 attempt left before two-factor login is paused for 15 minutes.');
      expect(last.text).toContain(`href="${ROUTES.recoveryCode}?token=`);
      // The failure that starts the pause: the page it answers with says so once and offers no code form (the
      // step's own counter writes told it; nothing is read again).
      const pausing = await client.post(url, { [FIELDS.totpValue]: '000000' });
      expect(pausing.status).toBe(429);
      expect(pausing.text.split('Too many failed attempts. Try again in 15 minutes.')).toHaveLength(2);
      expect(pausing.text).not.toContain(`name="${FIELDS.totpValue}"`);
      expect((await client.post(url, { [FIELDS.totpValue]: '000000' })).status).toBe(429);
      // Even the right code is refused while locked.
      expect((await client.post(url, { [FIELDS.totpValue]: code() })).status).toBe(429);
      // Locked: said on arrival, no code form, no recovery-code link, Retry-After given.
      const page = await client.get(url);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Too many failed attempts. Try again in 15 minutes.');
      expect(page.text).not.toContain(`name="${FIELDS.totpValue}"`);
      expect(page.text).not.toContain(`href="${ROUTES.recoveryCode}`);
      expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(800);
      const recovery = await client.get(url.replace(ROUTES.twoFactor, ROUTES.recoveryCode));
      expect(recovery.text).toContain('Too many failed attempts. Try again in 15 minutes.');
    });

    it('the wrong code that spends the year’s app budget answers with the page that says so', async () => {
      const { user, client, url } = await secondStep('192.0.2.52');
      await guessed(user.id, DEFAULT_RATE_LIMITS.totpGuessesPerYear.max - 1);
      const spending = await client.post(url, { [FIELDS.totpValue]: '000000' });
      expect(spending.status).toBe(401);
      expect(spending.text).toContain('Invalid code.');
      // This account has no security key: the page does not send its owner looking for one.
      expect(spending.text).toContain('Use a recovery code if you have one left, then change your password.');
      expect(spending.text).not.toMatch(/Use (a|your) security key/);
      expect(spending.text).not.toContain(`name="${FIELDS.totpValue}"`);
      expect(spending.text).toContain(`href="${ROUTES.recoveryCode}?token=`);
    });

    it('with the year’s app budget spent, refuses only the app: the page says so and still offers recovery codes', async () => {
      const { user, client, url } = await secondStep('192.0.2.51');
      await guessed(user.id, DEFAULT_RATE_LIMITS.totpGuessesPerYear.max);
      const page = await client.get(url);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Use a recovery code if you have one left, then change your password.');
      expect(page.text).not.toMatch(/Use (a|your) security key/);
      expect(page.text).not.toContain(`name="${FIELDS.totpValue}"`);
      expect(page.text).toContain(`href="${ROUTES.recoveryCode}?token=`);
      const refused = await client.post(url, { [FIELDS.totpValue]: '123456' });
      expect(refused.status).toBe(429);
      expect(refused.text).toContain('Use a recovery code if you have one left, then change your password.');
      expect(refused.text).not.toMatch(/Use (a|your) security key/);
    });

    it('with the year’s app budget spent, an account with a security key is told to use it, on arrival and after a code sent anyway', async () => {
      const { user, client, url } = await secondStep('192.0.2.53', { key: true });
      await guessed(user.id, DEFAULT_RATE_LIMITS.totpGuessesPerYear.max);
      const page = await client.get(url);
      expect(page.status).toBe(200);
      const refused = await client.post(url, { [FIELDS.totpValue]: '123456' });
      expect(refused.status).toBe(429);
      for (const shown of [page, refused]) {
        expect(shown.text).toContain('Use your security key (or a recovery code if you have one left), then change your password.');
        expect(shown.text).not.toContain('Use a recovery code if you have one left');
        // Said once: in the app's part on arrival, in the error summary after the refused code.
        expect(shown.text.split('codes from the app are refused for now')).toHaveLength(2);
        expect(shown.text).toContain('Use security key');
      }
    });
  });
});

describe('without LATCHKEY_TRUST_PROXY', () => {
  it('ignores X-Forwarded-For: limits and events see the socket address', async () => {
    const database = await createTestDatabaseUrl('sqlite');
    const server = await startServer(testConfig({ databaseUrl: database.databaseUrl }));
    try {
      const user = await server.services.accounts.register({ username: uniqueName(), email: 'x@example.org', password: PASSWORD });
      const client = new ClientAt(server.url, '203.0.113.250');
      await client.get(ROUTES.login);
      expect((await client.post(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: 'not the password' })).status).toBe(401);
      const [failure] = await server.services.events.list(user.id, { limit: 1 });
      expect(failure?.ip).toBe('127.0.0.1');
      const keys = (await server.services.db.selectFrom('rate_limits').select('key').execute()).map((row) => row.key);
      expect(keys.filter((key) => key.includes('203.0.113.250'))).toEqual([]);
    } finally {
      await server.close();
      await database.drop();
    }
  });
});
