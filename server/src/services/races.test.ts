import { Secret } from 'otpauth';
import { LastFactorUnconfirmed } from './clear-recovery-codes-if-no-factor.js';
import { describe, expect, it } from 'vitest';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { ServiceError } from './errors.js';
import { NO_ORIGIN } from './events.js';
import { generateTotpCode } from './totp-code.js';
import { uniqueName } from '../testing/unique-name.js';

/**
 * Issue 14 point 7: races found by reading the code, each run concurrently on both dialects (SQLite:
 * one connection, statements of different callers interleave between awaits; PostgreSQL: a pool, READ
 * COMMITTED). Each check is repeated so an interleaving that happens only sometimes still shows.
 */
const ROUNDS = 20;

describe.each(DIALECTS)('races on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  const newUser = () =>
    h.services.accounts.register({
      username: uniqueName('race'),
      email: 'someone@example.org',
      password: 'correct horse battery staple',
    });

  /** A security key row as registration leaves it (the ceremony itself is tested in webauthn.test.ts). */
  const plantKey = (userId: string, label: string) =>
    h.db
      .insertInto('webauthn_credentials')
      .values({
        user_id: userId,
        credential_id: `cred-${userId}-${label}`,
        public_key: 'pk',
        sign_count: 0,
        transports: null,
        label,
        label_key: label.toLowerCase(),
        created_at: h.clock(),
        last_used_at: null,
      })
      .execute();

  /** An account with TOTP, one key ("Desk key") and a set of recovery codes. */
  const withBothFactors = async () => {
    const user = await newUser();
    await h.services.totp.enable(user.id, h.services.totp.generateSecret());
    await plantKey(user.id, 'Desk key');
    return { user, codes: await h.services.recoveryCodes.generate(user.id) };
  };

  const codeFor = (secret: string) => generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: h.clock() });

  it('removing TOTP and the last security key at the same moment leaves 2FA off with no recovery code valid', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { user, codes } = await withBothFactors();
      // What the two removal routes do (routes/manage.ts, routes/webauthn.ts): the codes go with the last factor.
      await Promise.all([
        h.services.totp.disable(user.id, NO_ORIGIN, { lastFactorConfirmed: true }),
        h.services.webauthn.remove(user.id, 'Desk key', NO_ORIGIN, { lastFactorConfirmed: true }),
      ]);
      const status = await h.services.accounts.twoFactorStatus(user.id);
      expect(status).toMatchObject({ enabled: false, hasTotp: false, securityKeyCount: 0 });
      expect(await h.services.recoveryCodes.check(user.id, codes[0]!), `round ${round}`).toBe('invalid');
      expect(status.recoveryCodesRemaining).toBe(0);
    }
  });

  it('two tabs each removing one of the two factors, neither confirming 2FA off: one removal wins, the other is refused and changes nothing', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { user, codes } = await withBothFactors();
      // Each tab saw two factors, so neither route asked for the last-factor confirmation.
      const outcomes = await Promise.allSettled([
        h.services.totp.disable(user.id, NO_ORIGIN, { lastFactorConfirmed: false }),
        h.services.webauthn.remove(user.id, 'Desk key', NO_ORIGIN, { lastFactorConfirmed: false }),
      ]);
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(refused, `round ${round}`).toHaveLength(1);
      expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(LastFactorUnconfirmed);
      const status = await h.services.accounts.twoFactorStatus(user.id);
      expect(status.enabled, `round ${round}`).toBe(true);
      expect((status.hasTotp ? 1 : 0) + status.securityKeyCount).toBe(1);
      expect(await h.services.recoveryCodes.check(user.id, codes[0]!), `round ${round}`).toBe('ok');
    }
  });

  it('removing one factor while another remains keeps the recovery codes', async () => {
    const { user, codes } = await withBothFactors();
    expect(await h.services.totp.disable(user.id, NO_ORIGIN, { lastFactorConfirmed: true })).toBe(true);
    expect(await h.services.recoveryCodes.check(user.id, codes[0]!)).toBe('ok');
    await h.services.webauthn.remove(user.id, 'Desk key', NO_ORIGIN, { lastFactorConfirmed: true });
    expect(await h.services.recoveryCodes.check(user.id, codes[0]!)).toBe('invalid');
  });

  it('two sessions enabling TOTP at once: one wins, the other gets a 409, the secret is never silently replaced', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const user = await newUser();
      const secrets = [h.services.totp.generateSecret(), h.services.totp.generateSecret()];
      const results = await Promise.allSettled(secrets.map((secret) => h.services.totp.confirmAndEnable(user.id, secret, codeFor(secret), NO_ORIGIN)));
      const won = results.flatMap((result, index) => (result.status === 'fulfilled' ? [index] : []));
      expect(won, `round ${round}: both enables succeeded, the second replaced the first's secret`).toHaveLength(1);
      const lost = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      expect(lost?.reason).toBeInstanceOf(ServiceError);
      expect(lost?.reason).toMatchObject({ status: 409 });
      // The stored secret is the winner's: its next code logs in, the loser's does not.
      const row = (await h.services.accounts.findById(user.id))!;
      h.clock.advance(30_000);
      expect(await h.services.totp.verify(row, codeFor(secrets[1 - won[0]!]!))).toBe('invalid');
      expect(await h.services.totp.verify(row, codeFor(secrets[won[0]!]!))).toBe('ok');
    }
  });

  it('loginTokens.consume and a factor change at the same moment: a token staled before it is burned never logs in', async () => {
    let violations = 0;
    let logins = 0;
    for (let round = 0; round < ROUNDS * 2; round++) {
      const user = await newUser();
      const token = await h.services.loginTokens.issue((await h.services.accounts.findById(user.id))!);
      // A factor change: the epoch moves; then, in the same transaction, is T's nonce still there to burn?
      // If it is, the change happened before T was used, so T must now be refused as stale.
      const factorChange = () =>
        h.db.transaction().execute(async (trx) => {
          await trx
            .updateTable('users')
            .set((eb) => ({ security_epoch: eb('security_epoch', '+', 1) }))
            .where('id', '=', user.id)
            .execute();
          const nonce = await trx.selectFrom('login_tokens').select('id').where('user_id', '=', user.id).executeTakeFirst();
          return nonce !== undefined;
        });
      // Even rounds start the change at once, odd ones a turn later, so both orders happen (on SQLite the
      // start order decides which goes first).
      const change = round % 2 === 0 ? factorChange() : new Promise((resolve) => setImmediate(resolve)).then(factorChange);
      const [consumed, nonceAliveAfterChange] = await Promise.all([h.services.loginTokens.consume(token), change]);
      if (consumed.ok) logins++;
      if (consumed.ok && nonceAliveAfterChange) violations++;
      // Whatever the order, a token that logged in carries the epoch of a user whose factors it saw.
      if (consumed.ok) expect(consumed.user.security_epoch).toBe(user.security_epoch);
    }
    console.log(
      `${dialect}: consume vs factor change, ${ROUNDS * 2} rounds → ${logins} logins, ${ROUNDS * 2 - logins} refused as stale, ${violations} violations`,
    );
    expect(violations, `${violations} of ${logins} logins used a token staled before it was burned`).toBe(0);
  });
});
