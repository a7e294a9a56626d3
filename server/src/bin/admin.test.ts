import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig, type Config } from '../config.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { createApp } from '../app.js';
import { NO_ORIGIN } from '../services/events.js';
import { createServices } from '../services/index.js';
import { generatePassword, runAdmin, type AdminIo } from './admin.js';

function captureIo(stdin = ''): AdminIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (line) => out.push(line), stderr: (line) => err.push(line), readStdin: async () => stdin };
}

/** A throw-away SQLite database for the describe block, and the server's config for it (its key). */
function useThrowAwayDatabase(ready: (config: Config) => void): void {
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabaseUrl('sqlite');
    drop = database.drop;
    ready(testConfig({ databaseUrl: database.databaseUrl }));
  });
  afterAll(async () => {
    await drop?.();
  });
}

describe('admin CLI', () => {
  let config: Config;
  useThrowAwayDatabase((started) => {
    config = started;
  });

  it('prints help', async () => {
    const io = captureIo();
    expect(await runAdmin(['--help'], io, config)).toBe(0);
    expect(io.out.join('\n')).toMatch(/create-user[\s\S]*reset-2fa[\s\S]*events/);
    const sub = captureIo();
    expect(await runAdmin(['reset-2fa', '--help'], sub, config)).toBe(0);
    expect(sub.out.join('\n')).toContain('--reason');
  });

  it('refuses unknown commands and missing options with a usage line', async () => {
    const io = captureIo();
    expect(await runAdmin(['frobnicate'], io, config)).toBe(1);
    expect(io.err.join('\n')).toContain('Unknown command');
    const missing = captureIo();
    expect(await runAdmin(['create-user', '--username', 'x'], missing, config)).toBe(1);
    expect(missing.err.join('\n')).toContain('--email is required');
    const unknownFlag = captureIo();
    expect(await runAdmin(['events', '--bogus'], unknownFlag, config)).toBe(1);
  });

  it('may create a name kept from self-service registration (a staff account), with a generated password', async () => {
    const io = captureIo();
    expect(await runAdmin(['create-user', '--username', 'security', '--email', 'security@example.org', '--verified'], io, config)).toBe(0);
    expect(io.out[0]).toContain('Created account "security"');
    expect(io.out.join('\n')).toMatch(/Password \(shown once.*\): \S{20}/);
  });

  it('generates a password the rule accepts: a random one holding the username or the address is drawn again', () => {
    const draws = ['xxsecurityxxxxxxxxxx', 'aaajoebbbbbbbbbbbbbb', 'Q7mZk2vT9wLpR4sN8yHc'];
    expect(generatePassword({ username: 'security', email: 'joe@example.org' }, () => draws.shift()!)).toBe('Q7mZk2vT9wLpR4sN8yHc');
    expect(draws).toEqual([]);
    expect(() => generatePassword({ username: 'same' }, () => 'xxxxsamexxxxxxxxxxxx')).toThrow(/100 tries/);
    // The index's own name too (a short one turns up in about 1 random password in 1 800).
    const named = ['xxEXAMPLExxxxxxxxxxx', 'Q7mZk2vT9wLpR4sN8yHc'];
    expect(generatePassword({ username: 'alice', indexName: 'Example' }, () => named.shift()!)).toBe('Q7mZk2vT9wLpR4sN8yHc');
  });

  it('creates a user, resets their 2FA with a recorded reason, lists events', async () => {
    const created = captureIo('a long enough admin password\n');
    expect(await runAdmin(['create-user', '--username', 'Maintainer', '--email', 'm@example.org', '--password-stdin', '--verified'], created, config)).toBe(0);
    expect(created.out[0]).toContain('Created account "maintainer"');
    expect(created.out[1]).toContain('marked verified');

    const latchkey = await createApp(config);
    try {
      const user = (await latchkey.services.accounts.findByUsername('maintainer'))!;
      expect(await latchkey.services.accounts.verifyPassword(user, 'a long enough admin password')).toBe(true);
      await latchkey.services.totp.enable(user.id, latchkey.services.totp.generateSecret());
      await latchkey.services.recoveryCodes.generate(user.id);
      await latchkey.services.sessions.create(user.id);
    } finally {
      await latchkey.close();
    }

    const noReason = captureIo();
    expect(await runAdmin(['reset-2fa', '--username', 'maintainer'], noReason, config)).toBe(1);
    const reset = captureIo();
    expect(await runAdmin(['reset-2fa', '--username', 'maintainer', '--reason', 'video call + signed release key'], reset, config)).toBe(0);
    expect(reset.out[0]).toContain('reset for "maintainer"');

    const after = await createApp(config);
    try {
      const user = (await after.services.accounts.findByUsername('maintainer'))!;
      const status = await after.services.accounts.twoFactorStatus(user.id);
      expect(status).toMatchObject({ hasTotp: false, hasSecurityKey: false, recoveryCodesRemaining: 0, enabled: false });
      expect(await after.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toHaveLength(0);
      // The address was vouched for (no verification mail); each change mailed its notice, the reset too.
      const mail = await after.db.selectFrom('mail_outbox').select(['kind', 'recipient']).where('user_id', '=', user.id).orderBy('id').execute();
      expect(mail).toEqual(
        ['notice:method-added', 'notice:recovery-codes-generated', 'notice:admin-two-factor-reset'].map((kind) => ({ kind, recipient: 'm@example.org' })),
      );
    } finally {
      await after.close();
    }

    const events = captureIo();
    expect(await runAdmin(['events', '--username', 'maintainer', '--json'], events, config)).toBe(0);
    const list = JSON.parse(events.out.join('\n')) as { tag: string; details: Record<string, unknown> }[];
    expect(list[0]).toMatchObject({ tag: 'admin:two_factor:reset', details: { reason: 'video call + signed release key' } });
    expect(list.map((event) => event.tag)).toEqual(expect.arrayContaining(['admin:account:create', 'account:create']));

    const unknown = captureIo();
    expect(await runAdmin(['events', '--username', 'nobody'], unknown, config)).toBe(1);
    expect(unknown.err[0]).toContain('No account named "nobody".');
    expect(unknown.err[0]).not.toContain('deleted');

    // A deleted account's history went with it: the CLI says when the name was deleted.
    const deleting = await createApp(config);
    try {
      await deleting.services.accounts.deleteAccount((await deleting.services.accounts.findByUsername('maintainer'))!, NO_ORIGIN);
    } finally {
      await deleting.close();
    }
    const gone = captureIo();
    expect(await runAdmin(['events', '--username', 'Maintainer'], gone, config)).toBe(1);
    expect(gone.err[0]).toMatch(/No account named "Maintainer"\. The account of that name was deleted by its owner on \d{4}-\d\d-\d\dT/);
    const resetGone = captureIo();
    expect(await runAdmin(['reset-2fa', '--username', 'maintainer', '--reason', 'video call'], resetGone, config)).toBe(1);
    expect(resetGone.err[0]).toMatch(/No account named "maintainer"\. The account of that name was deleted by its owner on /);
  });
});

describe('admin CLI with another secret key than the server', () => {
  let config: Config;
  useThrowAwayDatabase((started) => {
    config = started;
  });

  const otherKey = (extra: Partial<Config> = {}) => testConfig({ databaseUrl: config.databaseUrl, ...extra });

  it('refuses to queue mail the server could not open (a verification link, a reset notice), and changes nothing', async () => {
    // Before: the verification mail was sealed under the CLI's key; the server retried it for hours, then gave up.
    const first = captureIo();
    expect(await runAdmin(['create-user', '--username', 'keyed', '--email', 'keyed@example.org'], first, config)).toBe(0);
    const created = captureIo();
    expect(await runAdmin(['create-user', '--username', 'stranger', '--email', 's@example.org'], created, otherKey())).toBe(2);
    expect(created.err.join('\n')).toMatch(/LATCHKEY_SECRET_KEY is not the key this database was written with/);

    const latchkey = await createApp(config);
    try {
      expect(await latchkey.services.accounts.findByUsername('stranger')).toBeUndefined();
      const user = (await latchkey.services.accounts.findByUsername('keyed'))!;
      await latchkey.services.totp.enable(user.id, latchkey.services.totp.generateSecret());
      const reset = captureIo();
      expect(await runAdmin(['reset-2fa', '--username', 'keyed', '--reason', 'video call'], reset, otherKey())).toBe(2);
      expect(reset.err.join('\n')).toMatch(/not the key this database was written with/);
      expect((await latchkey.services.accounts.twoFactorStatus(user.id)).hasTotp).toBe(true);
      // The server's own key passes, and read-only commands need no key.
      expect(await runAdmin(['events', '--username', 'keyed'], captureIo(), otherKey())).toBe(0);
      expect(await runAdmin(['reset-2fa', '--username', 'keyed', '--reason', 'video call'], captureIo(), config)).toBe(0);
      expect((await latchkey.services.accounts.twoFactorStatus(user.id)).hasTotp).toBe(false);
    } finally {
      await latchkey.close();
    }
  });

  it('refuses another key on a database the server has started on, even with nothing sealed in it yet (its recorded key check)', async () => {
    const database = await createTestDatabaseUrl('sqlite');
    try {
      const server = testConfig({ databaseUrl: database.databaseUrl });
      await (await createApp(server)).close(); // the first start records the key's check value; no account, no mail
      const io = captureIo();
      expect(
        await runAdmin(['create-user', '--username', 'first', '--email', 'first@example.org'], io, testConfig({ databaseUrl: database.databaseUrl })),
      ).toBe(2);
      expect(io.err.join('\n')).toMatch(/LATCHKEY_SECRET_KEY is not the key this database was written with/);
      expect(await runAdmin(['create-user', '--username', 'first', '--email', 'first@example.org'], captureIo(), server)).toBe(0);
    } finally {
      await database.drop();
    }
  });

  it('is not fooled by a message an earlier run queued under a wrong key (the server failed to open it)', async () => {
    const database = await createTestDatabaseUrl('sqlite');
    try {
      const server = testConfig({ databaseUrl: database.databaseUrl });
      expect(await runAdmin(['create-user', '--username', 'first', '--email', 'first@example.org', '--verified'], captureIo(), server)).toBe(0);
      const latchkey = await createApp(server);
      try {
        // Sealed under another key (services made with another config), and already refused once by the server's sender.
        const other = createServices(latchkey.db, testConfig({ databaseUrl: database.databaseUrl }));
        const id = await other.mail.enqueue({ userId: null, kind: 'test', to: 'x@example.org', subject: 'x', text: 'x', html: '<p>x</p>' });
        await latchkey.db
          .updateTable('mail_outbox')
          .set({ attempts: 1, last_error: 'Unsupported state or unable to authenticate data' })
          .where('id', '=', id)
          .execute();
        // As a database no server has started on since the key check was recorded (migration 009): the sampling decides.
        await latchkey.db.deleteFrom('key_check').execute();
      } finally {
        await latchkey.close();
      }
      // Only the poisoned message is there to check against: the server's key is not refused over it.
      expect(await runAdmin(['create-user', '--username', 'second', '--email', 'second@example.org', '--verified'], captureIo(), server)).toBe(0);
    } finally {
      await database.drop();
    }
  });

  it('refuses a key generated by this very run when the database already has accounts (nothing sealed to check it against)', async () => {
    const database = await createTestDatabaseUrl('sqlite');
    try {
      const server = testConfig({ databaseUrl: database.databaseUrl });
      expect(await runAdmin(['create-user', '--username', 'first', '--email', 'first@example.org', '--verified'], captureIo(), server)).toBe(0);
      const generated = testConfig({ databaseUrl: database.databaseUrl, secretKeyGenerated: true });
      const io = captureIo();
      expect(await runAdmin(['create-user', '--username', 'later', '--email', 'later@example.org', '--verified'], io, generated)).toBe(2);
      expect(io.err.join('\n')).toMatch(/one was just generated, but the database already has accounts/);
    } finally {
      await database.drop();
    }
  });
});
