import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigDirectories, DEFAULT_REQUEST_LIMITS, loadConfig, testConfig, type Config } from '../config.js';
import { openDatabase } from '../db/open-database.js';
import type { Database } from '../db/schema.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { holdTransaction } from '../testing/held-transaction.js';
import { sqliteLockHeldByAnotherProcess } from '../testing/sqlite-lock-holder.js';
import { createApp } from '../app.js';
import { createAdmin } from '../services/admin.js';
import { NO_ORIGIN } from '../services/events.js';
import { createServices } from '../services/index.js';
import { adminMain, generatePassword, readHiddenLine, runAdmin, terminalSafe, type AdminIo, type HiddenInput } from './admin.js';

function captureIo(stdin = ''): AdminIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (line) => out.push(line), stderr: (line) => err.push(line), readStdin: async () => stdin };
}

/** A server started once on `config`'s database: it creates and migrates it, and records its key's check value. */
async function startServerOnce(config: Config): Promise<void> {
  await (await createApp(config)).close();
}

/** A throw-away database (SQLite unless said) for the describe block, set up by a server, and the server's config for it (its key). */
function useThrowAwayDatabase(ready: (config: Config) => void, dialect: 'sqlite' | 'postgres' = 'sqlite'): void {
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabaseUrl(dialect);
    drop = database.drop;
    const config = testConfig({ databaseUrl: database.databaseUrl });
    await startServerOnce(config);
    ready(config);
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
    // One first event, naming the operator (never "Account created", which reads as the owner registering).
    expect(list.map((event) => event.tag)).toContain('admin:account:create');
    expect(list.map((event) => event.tag)).not.toContain('account:create');

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

describe('admin CLI: create-user when the mailbox was sent several verification mails lately', () => {
  let config: Config;
  useThrowAwayDatabase((started) => {
    config = started;
  });

  it('says on stderr that no link was sent and when "Send link" works, and exits 0: the account was made', async () => {
    // The server's limits (the test configuration lifts the per-mailbox cap).
    const capped: Config = { ...config, requestLimits: DEFAULT_REQUEST_LIMITS };
    const cap = DEFAULT_REQUEST_LIMITS['verification-resend'].perRecipient!;
    // The CLI has no client address: its own allowance per mailbox (verification-mail-cap.ts), which strangers cannot spend.
    for (let i = 0; i < cap.perNetworkMax; i++) {
      const io = captureIo();
      expect(await runAdmin(['create-user', '--username', `early${i}`, '--email', 'shared@example.org'], io, capped)).toBe(0);
      expect(io.out[1]).toBe('A verification link for shared@example.org is queued (the running server sends it).');
      expect(io.err).toEqual([]);
    }
    // The same mailbox with a +tag: its allowance is spent. It used to say "A verification link … is queued" all the same.
    const late = captureIo();
    expect(await runAdmin(['create-user', '--username', 'late', '--email', 'shared+admin@example.org'], late, capped)).toBe(0);
    expect(late.out[0]).toBe('Created account "late" (shared+admin@example.org).');
    expect(late.out.join('\n')).not.toContain('queued');
    expect(late.out.at(-1)).toMatch(/^Next: the user logs in at /);
    expect(late.err).toEqual([
      'Warning: no verification link was sent to shared+admin@example.org: that mailbox has been sent several verification e-mails recently, ' +
        'and they are held back for a while so that it cannot be flooded. The account was created; until the address is verified ' +
        'the user cannot turn on two-factor authentication. "Send link" on their account page mails one in 60 minutes; or, once you ' +
        'have checked the address yourself: npm run -s admin -- verify-email --username late --email shared+admin@example.org',
    ]);
    const latchkey = await createApp(capped);
    try {
      const user = (await latchkey.services.accounts.findByUsername('late'))!;
      expect(await latchkey.services.emails.list(user.id)).toMatchObject([{ email: 'shared+admin@example.org', verified: false, verifySentAt: null }]);
      expect(await latchkey.db.selectFrom('mail_outbox').select('kind').where('user_id', '=', user.id).execute()).toEqual([]);
    } finally {
      await latchkey.close();
    }
    // The way round it the warning names works at once.
    expect(await runAdmin(['verify-email', '--username', 'late', '--email', 'shared+admin@example.org'], captureIo(), capped)).toBe(0);
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
      await startServerOnce(server);
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
      await startServerOnce(server);
      expect(await runAdmin(['create-user', '--username', 'first', '--email', 'first@example.org', '--verified'], captureIo(), server)).toBe(0);
      // As a database no server has started on since the key check was recorded (migration 009).
      const db = openDatabase(database.databaseUrl);
      await db.deleteFrom('key_check').execute();
      await db.destroy();
      const generated = testConfig({ databaseUrl: database.databaseUrl, secretKeyGenerated: true });
      const io = captureIo();
      expect(await runAdmin(['create-user', '--username', 'later', '--email', 'later@example.org', '--verified'], io, generated)).toBe(2);
      expect(io.err.join('\n')).toMatch(/one was just generated, but the database already has accounts/);
    } finally {
      await database.drop();
    }
  });
});

describe('admin CLI: help, refusals and output', () => {
  let config: Config;
  useThrowAwayDatabase((started) => {
    config = started;
  });

  it("each command's help says what it does, its options and an example; the overview gives the exit codes", async () => {
    for (const [command, option] of [
      ['create-user', '--password-stdin'],
      ['reset-2fa', '--reason'],
      ['events', '--offset'],
      ['show', '--email'],
      ['verify-email', '--email'],
      ['code', '--seed-file'],
    ] as const) {
      const io = captureIo();
      expect(await runAdmin([command, '--help'], io, config)).toBe(0);
      expect(io.out.join('\n')).toContain(`\n  ${option}`);
      expect(io.out.join('\n')).toMatch(/Examples?:\n {2}npm run -s admin -- /);
      const asked = captureIo();
      expect(await runAdmin(['help', command], asked, config)).toBe(0);
      expect(asked.out).toEqual(io.out);
    }
    const overview = captureIo();
    expect(await runAdmin(['--help'], overview, config)).toBe(0);
    expect(overview.out.join('\n')).toMatch(/Exit codes: 0 done; 1 refused .*; 2 wrong environment.*or locked by another process: try again/s);
    // A bare run is a usage error: the overview goes to stderr.
    const bare = captureIo();
    expect(await runAdmin([], bare, config)).toBe(1);
    expect(bare.out).toEqual([]);
    expect(bare.err.join('\n')).toContain('Commands:');
  });

  it('refuses a stray word (an unquoted reason), an option given twice, and names the option a typo meant; nothing changes', async () => {
    const created = captureIo('a long enough admin password\n');
    expect(await runAdmin(['create-user', '--username', 'strayword', '--email', 's@example.org', '--password-stdin', '--verified'], created, config)).toBe(0);
    const latchkey = await createApp(config);
    try {
      const user = (await latchkey.services.accounts.findByUsername('strayword'))!;
      await latchkey.services.totp.enable(user.id, latchkey.services.totp.generateSecret());
      // Before: the reason was recorded as "video" and the rest of it dropped without a word.
      const stray = captureIo();
      expect(await runAdmin(['reset-2fa', '--username', 'strayword', '--reason', 'video', 'call', 'with', 'the', 'owner'], stray, config)).toBe(1);
      expect(stray.err[0]).toContain('Unexpected arguments "call" "with" "the" "owner". A value with spaces goes in quotes');
      // Before: the last one won silently.
      const twice = captureIo();
      expect(await runAdmin(['reset-2fa', '--username', 'someone', '--username', 'strayword', '--reason', 'video call'], twice, config)).toBe(1);
      expect(twice.err[0]?.split('\n')[0]).toBe('--username is given more than once; give it once.');
      expect((await latchkey.services.accounts.twoFactorStatus(user.id)).hasTotp).toBe(true);
    } finally {
      await latchkey.close();
    }
    const typo = captureIo();
    expect(await runAdmin(['reset-2fa', '--usename', 'strayword', '--reason', 'video call'], typo, config)).toBe(1);
    expect(typo.err[0]?.split('\n')[0]).toBe('Unknown option --usename. Did you mean --username?');
    const empty = captureIo('');
    expect(await runAdmin(['create-user', '--username', 'nopassword', '--email', 'n@example.org', '--password-stdin'], empty, config)).toBe(1);
    expect(empty.err[0]?.split('\n')[0]).toBe('--password-stdin read no password (standard input was empty).');
  });

  it('reset-2fa says what it removed and where the notice goes, and refuses an account with no second factor', async () => {
    const latchkey = await createApp(config);
    try {
      const plain = await latchkey.services.accounts.register(
        { username: 'plain', email: 'plain@example.org', password: 'a long enough admin password' },
        NO_ORIGIN,
        {
          emailVerified: true,
        },
      );
      const refused = captureIo();
      expect(await runAdmin(['reset-2fa', '--username', 'plain', '--reason', 'video call'], refused, config)).toBe(1);
      expect(refused.err[0]).toContain('"plain" has no second factor');
      expect(await latchkey.services.events.list(plain.id)).not.toContainEqual(expect.objectContaining({ tag: 'admin:two_factor:reset' }));
      await latchkey.services.totp.enable(plain.id, latchkey.services.totp.generateSecret());
      await latchkey.services.recoveryCodes.generate(plain.id);
      await latchkey.services.sessions.create(plain.id);
      const reset = captureIo();
      expect(await runAdmin(['reset-2fa', '--username', 'plain', '--reason', 'video call'], reset, config)).toBe(0);
      expect(reset.out).toEqual([
        'Two-factor authentication reset for "plain": removed the authentication app and 8 unused recovery codes; ended 1 session; ' +
          'remembered devices and logins under way no longer pass the second factor.',
        'Recorded with your reason; a notice to plain@example.org is queued (the running server sends it).',
        'Next: "plain" logs in at http://localhost/account/login/ with the password alone and sets up two-factor authentication again.',
      ]);
    } finally {
      await latchkey.close();
    }
  });

  it('events: a header with the total, --tag, --offset to page, the browser shown; a deleted account shows its kept deletion', async () => {
    const latchkey = await createApp(config);
    try {
      const user = await latchkey.services.accounts.register(
        { username: 'paged', email: 'paged@example.org', password: 'a long enough admin password' },
        { ip: '203.0.113.9', userAgent: 'Mozilla/5.0 \u009b31mred\u202eevil' },
        { emailVerified: true },
      );
      await latchkey.services.totp.enable(user.id, latchkey.services.totp.generateSecret());
      await latchkey.services.recoveryCodes.generate(user.id);
      const first = captureIo();
      expect(await runAdmin(['events', '--username', 'paged', '--limit', '2'], first, config)).toBe(0);
      expect(first.out[0]).toBe('Security events of "paged" (paged@example.org), newest first: 1–2 of 3.');
      expect(first.out[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}account:recovery_codes:generated +- +- {2}\{"count":8,"voided":0\}$/);
      expect(first.out[3]).toBe('Older ones: add --offset 2.');
      const next = captureIo();
      expect(await runAdmin(['events', '--username', 'paged', '--limit', '2', '--offset', '2'], next, config)).toBe(0);
      expect(next.out[0]).toBe('Security events of "paged" (paged@example.org), newest first: 3–3 of 3.');
      // A browser's User-Agent is whoever sent it: its controls are shown, never sent to the terminal.
      expect(next.out[1]).toContain('account:create');
      expect(next.out[1]).toContain('203.0.113.9     Mozilla/5.0 \\u{9b}31mred\\u{202e}evil');
      const tagged = captureIo();
      expect(await runAdmin(['events', '--username', 'paged', '--tag', 'account:two_factor'], tagged, config)).toBe(0);
      expect(tagged.out[0]).toBe('Security events of "paged" (paged@example.org) tagged account:two_factor, newest first: 1–1 of 1.');
      expect(await runAdmin(['events', '--username', 'paged', '--offset', '-1'], captureIo(), config)).toBe(1);

      await latchkey.services.accounts.deleteAccount(user, { ip: '203.0.113.10', userAgent: 'curl/8' });
      const gone = captureIo();
      expect(await runAdmin(['events', '--username', 'Paged'], gone, config)).toBe(1);
      expect(gone.err[0]).toMatch(
        /^No account named "Paged"\. The account of that name was deleted by its owner on .*\nIts deletion, as recorded:\n.* {2}account:delete +203\.0\.113\.10 +curl\/8 {2}\{"username":"paged"\}$/,
      );
    } finally {
      await latchkey.close();
    }
  });

  it("events: a negative --offset or --limit says what the option takes (not node's parseArgs text); a missing value says so", async () => {
    const latchkey = await createApp(config);
    try {
      await latchkey.services.accounts.register({ username: 'offsets', email: 'offsets@example.org', password: 'a long enough admin password' }, NO_ORIGIN, {
        emailVerified: true,
      });
    } finally {
      await latchkey.close();
    }
    const negative = captureIo();
    expect(await runAdmin(['events', '--username', 'offsets', '--offset', '-1'], negative, config)).toBe(1);
    expect(negative.err[0]?.split('\n')[0]).toBe('--offset must be a whole number from 0 up.');
    expect(negative.err.join('\n')).not.toMatch(/ambiguous|XYZ/);
    const limit = captureIo();
    expect(await runAdmin(['events', '--username', 'offsets', '--limit', '-5'], limit, config)).toBe(1);
    expect(limit.err[0]?.split('\n')[0]).toBe('--limit must be a whole number from 1 to 10000.');
    const missing = captureIo();
    expect(await runAdmin(['events', '--username', 'offsets', '--offset'], missing, config)).toBe(1);
    expect(missing.err[0]?.split('\n')[0]).toBe('--offset needs a value.');
    const dashed = captureIo();
    expect(await runAdmin(['events', '--username', '--json'], dashed, config)).toBe(1);
    expect(dashed.err[0]?.split('\n')[0]).toBe(
      '--username needs a value, and "--json" is read as an option. A value starting with "-" is written --username=--json.',
    );
  });

  it('events: an unknown --tag is refused (exit 1) with the valid tags listed; a known tag with no events is not', async () => {
    const latchkey = await createApp(config);
    try {
      await latchkey.services.accounts.register({ username: 'tagged', email: 'tagged@example.org', password: 'a long enough admin password' }, NO_ORIGIN, {
        emailVerified: true,
      });
    } finally {
      await latchkey.close();
    }
    const typo = captureIo();
    expect(await runAdmin(['events', '--username', 'tagged', '--tag', 'acount:login'], typo, config)).toBe(1);
    expect(typo.err[0]).toMatch(
      /^--tag acount:login is no event tag\. Give one of these, or the part before a ":" \(account:login, admin\): .*account:login:success.*admin:two_factor:reset/,
    );
    const none = captureIo();
    expect(await runAdmin(['events', '--username', 'tagged', '--tag', 'admin:two_factor'], none, config)).toBe(0);
    expect(none.out).toEqual(['No events tagged admin:two_factor for "tagged".']);
    const prefix = captureIo();
    expect(await runAdmin(['events', '--username', 'tagged', '--tag', 'account'], prefix, config)).toBe(0);
  });

  it('reset-2fa: --reason says its length limits in help and in the refusal, before looking the account up', async () => {
    const help = captureIo();
    expect(await runAdmin(['reset-2fa', '--help'], help, config)).toBe(0);
    expect(help.out.join('\n')).toContain('(3 to 500 characters, quoted)');
    const long = captureIo();
    expect(await runAdmin(['reset-2fa', '--username', 'nobody-at-all', '--reason', 'x'.repeat(501)], long, config)).toBe(1);
    expect(long.err[0]?.split('\n')[0]).toBe('--reason: The reason is 501 characters; keep it to 500 characters (it is recorded as given, never cut).');
    const short = captureIo();
    expect(await runAdmin(['reset-2fa', '--username', 'nobody-at-all', '--reason', 'ok'], short, config)).toBe(1);
    expect(short.err[0]?.split('\n')[0]).toBe('--reason: Give a reason of 3 to 500 characters (what identity check was done); it is recorded.');
  });

  it('an unexpected failure is one line and exit code 3, apart from a refusal (1) and a wrong environment (2)', async () => {
    const io = captureIo();
    io.stdout = () => {
      throw new Error('write EPIPE');
    };
    expect(await adminMain(['--help'], io, config)).toBe(3);
    expect(io.err).toEqual(['admin: write EPIPE']);
  });

  it('terminalSafe shows C0, C1 and bidi controls as escapes and leaves other text alone', () => {
    expect(terminalSafe('a\u001b[2Jb\u009bc\u202ed\u2066e é 日本')).toBe('a\\u{1b}[2Jb\\u{9b}c\\u{202e}d\\u{2066}e é 日本');
  });

  it('--password-stdin at a terminal reads one line without echo: Backspace edits, Ctrl-C cancels', async () => {
    const terminal = () => {
      const emitter = new EventEmitter();
      const state = { raw: [] as boolean[], written: [] as string[] };
      const input: HiddenInput = {
        setRawMode: (raw) => state.raw.push(raw),
        setEncoding: () => undefined,
        resume: () => undefined,
        pause: () => undefined,
        on: (event, listener) => emitter.on(event, listener),
        off: (event, listener) => emitter.off(event, listener),
      };
      return { input, state, type: (text: string) => emitter.emit('data', text), write: (text: string) => state.written.push(text) };
    };
    const typed = terminal();
    const line = readHiddenLine(typed.input, typed.write);
    typed.type('correct horsf');
    typed.type('\u007fe battery\r');
    await expect(line).resolves.toBe('correct horse battery');
    expect(typed.state.raw).toEqual([true, false]);
    // Only the prompt and the final line break: the password was never written back.
    expect(typed.state.written).toEqual(['Password (not shown as you type; Enter to finish): ', '\n']);
    const cancelled = terminal();
    const refused = readHiddenLine(cancelled.input, cancelled.write);
    cancelled.type('abc\u0003');
    await expect(refused).rejects.toThrow('Cancelled; nothing was changed.');
    expect(cancelled.state.raw).toEqual([true, false]);
  });
});

describe('admin CLI: accounts by e-mail address, and verify-email', () => {
  let config: Config;
  useThrowAwayDatabase((started) => {
    config = started;
  });
  const PASSWORD = 'a long enough admin password';
  const DATE = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC';

  /** Runs `work` with the server's services on the test database. */
  async function withServer<T>(work: (services: Awaited<ReturnType<typeof createApp>>['services']) => Promise<T>): Promise<T> {
    const latchkey = await createApp(config);
    try {
      return await work(latchkey.services);
    } finally {
      await latchkey.close();
    }
  }

  it('show --email finds every account with the address in any spelling, the verified one first; --json; refusals', async () => {
    await withServer(async (services) => {
      const owner = await services.accounts.register({ username: 'finder', email: 'Finder@exämple.org', password: PASSWORD }, NO_ORIGIN, {
        emailVerified: true,
      });
      const squatter = await services.accounts.register({ username: 'squatter', email: 'squatter@example.org', password: PASSWORD }, NO_ORIGIN);
      await services.emails.add(squatter.id, 'finder@xn--exmple-cua.org', NO_ORIGIN);
      expect(owner.email).toBe('Finder@xn--exmple-cua.org');
    });
    const io = captureIo();
    expect(await runAdmin(['show', '--email', ' FINDER@EXÄMPLE.ORG '], io, config)).toBe(0);
    expect(io.out[0]).toBe('2 accounts have the address FINDER@EXÄMPLE.ORG:');
    expect(io.out[1]).toMatch(new RegExp(`^Account "finder", created ${DATE}$`));
    expect(io.out[2]).toMatch(new RegExp(`^ {2}Finder@xn--exmple-cua\\.org +primary, verified ${DATE} {3}<- this address$`));
    expect(io.out[3]).toBe('  Two-factor authentication: off');
    expect(io.out[4]).toBe('');
    expect(io.out[5]).toMatch(/^Account "squatter", created /);
    expect(io.out[6]).toMatch(/^ {2}squatter@example\.org +primary, not verified$/);
    expect(io.out[7]).toBe('  finder@xn--exmple-cua.org  not verified   <- this address (added, never verified: proves nothing)');

    const json = captureIo();
    expect(await runAdmin(['show', '--username', 'finder', '--json'], json, config)).toBe(0);
    expect(JSON.parse(json.out.join('\n'))).toEqual([
      {
        username: 'finder',
        createdAt: expect.any(Number),
        addresses: [{ email: 'Finder@xn--exmple-cua.org', primary: true, verified: true, verifiedAt: expect.any(Number), matched: false }],
        twoFactor: { authenticationApp: false, securityKeys: 0, unusedRecoveryCodes: 0 },
      },
    ]);

    const refusals: [string[], string][] = [
      [['show', '--email', 'nobody@example.org'], 'No account has the address nobody@example.org (in any spelling).'],
      [['show', '--email', 'finder'], '--email takes an address (name@example.org); for a login name use --username.'],
      [['show', '--username', 'finder', '--email', 'finder@exämple.org'], 'Give --username or --email, not both.'],
      [['show'], '--username (or --email) is required.'],
      [['show', '--emial', 'finder@exämple.org'], 'Unknown option --emial. Did you mean --email?'],
    ];
    for (const [argv, message] of refusals) {
      const refused = captureIo();
      expect(await runAdmin(argv, refused, config), argv.join(' ')).toBe(1);
      expect(refused.err[0]?.split('\n')[0], argv.join(' ')).toBe(message);
    }
  });

  it('events and reset-2fa take --email: the account that verified it, else the one whose primary address it is; never one that only added it', async () => {
    await withServer(async (services) => {
      const owner = await services.accounts.register({ username: 'emailed', email: 'emailed@example.org', password: PASSWORD }, NO_ORIGIN, {
        emailVerified: true,
      });
      await services.totp.enable(owner.id, services.totp.generateSecret());
      const other = await services.accounts.register({ username: 'other', email: 'other@example.org', password: PASSWORD }, NO_ORIGIN);
      await services.emails.add(other.id, 'emailed@example.org', NO_ORIGIN);
      await services.emails.add(other.id, 'only-added@example.org', NO_ORIGIN);
      await services.accounts.register({ username: 'twin1', email: 'twin@example.org', password: PASSWORD }, NO_ORIGIN);
      await services.accounts.register({ username: 'twin2', email: 'Twin@example.org', password: PASSWORD }, NO_ORIGIN);
      await services.accounts.register({ username: 'single', email: 'single@example.org', password: PASSWORD }, NO_ORIGIN);
    });
    const events = captureIo();
    expect(await runAdmin(['events', '--email', 'EMAILED@example.org', '--limit', '1'], events, config)).toBe(0);
    expect(events.out[0]).toMatch(/^Security events of "emailed" \(emailed@example\.org\), newest first: 1–1 of /);
    // An unverified primary address names its account when it is the only one.
    const single = captureIo();
    expect(await runAdmin(['events', '--email', 'single@example.org'], single, config)).toBe(0);
    expect(single.out[0]).toMatch(/^Security events of "single"/);

    const refusals: [string[], RegExp][] = [
      [['reset-2fa', '--email', 'nobody@example.org', '--reason', 'video call'], /^No account has the address nobody@example\.org \(in any spelling\)\.$/],
      [
        ['reset-2fa', '--email', 'only-added@example.org', '--reason', 'video call'],
        /^No account verified only-added@example\.org or has it as its primary address: "other" \(not verified\) only added it, which proves nothing .* See them with: show --email only-added@example\.org$/,
      ],
      [
        ['events', '--email', 'twin@example.org'],
        /^twin@example\.org is the primary address of 2 accounts, and none verified it \("twin1" \(primary, not verified\) and "twin2" \(primary, not verified\)\)\. Name the account with --username\./,
      ],
    ];
    for (const [argv, message] of refusals) {
      const refused = captureIo();
      expect(await runAdmin(argv, refused, config), argv.join(' ')).toBe(1);
      expect(refused.err[0], argv.join(' ')).toMatch(message);
    }

    const reset = captureIo();
    expect(await runAdmin(['reset-2fa', '--email', 'Emailed@Example.org', '--reason', 'video call'], reset, config)).toBe(0);
    expect(reset.out[0]).toContain('Two-factor authentication reset for "emailed": removed the authentication app');
    await withServer(async (services) => {
      const other = (await services.accounts.findByUsername('other'))!;
      expect(await services.events.list(other.id)).not.toContainEqual(expect.objectContaining({ tag: 'admin:two_factor:reset' }));
    });
  });

  it('verify-email marks an address of the account verified, naming the operator, with its notice; refuses what it cannot do, changing nothing', async () => {
    const ids = await withServer(async (services) => {
      const owner = await services.accounts.register({ username: 'holder', email: 'holder@example.org', password: PASSWORD }, NO_ORIGIN, {
        emailVerified: true,
      });
      const user = await services.accounts.register({ username: 'writer', email: 'writer@example.org', password: PASSWORD }, NO_ORIGIN);
      await services.emails.add(user.id, 'writer.work@exämple.org', NO_ORIGIN);
      await services.emails.add(user.id, 'holder@example.org', NO_ORIGIN);
      return { owner: owner.id, user: user.id };
    });
    const verifiedEvents = () =>
      withServer(async (services) => (await services.events.list(ids.user)).filter((event) => event.tag === 'account:email:verified'));
    const notices = () =>
      withServer(async (services) =>
        (await services.db.selectFrom('mail_outbox').select(['kind', 'recipient']).where('user_id', '=', ids.user).execute()).filter((mail) =>
          mail.kind.startsWith('notice:'),
        ),
      );

    // The primary address first: not verified, so no notice can go anywhere, and none is about itself.
    const primary = captureIo();
    expect(await runAdmin(['verify-email', '--username', 'Writer', '--email', 'WRITER@example.org'], primary, config)).toBe(0);
    expect(primary.out).toEqual([
      'Marked writer@example.org verified on "writer", recorded in their security history with your name.',
      'It is their primary address: no notice about it is mailed, and security notices and reset links go to it from now on.',
    ]);
    const second = captureIo();
    expect(await runAdmin(['verify-email', '--username', 'writer', '--email', 'Writer.Work@EXÄMPLE.org'], second, config)).toBe(0);
    expect(second.out).toEqual([
      'Marked writer.work@xn--exmple-cua.org verified on "writer", recorded in their security history with your name.',
      'A notice to their primary address writer@example.org is queued (the running server sends it). Reset links can go to writer.work@xn--exmple-cua.org from now on.',
    ]);
    const recorded = await verifiedEvents();
    expect(recorded.map((event) => event.details)).toEqual([
      { email: 'writer.work@xn--exmple-cua.org', by: 'admin', actor: expect.stringMatching(/ \(admin CLI\)$/) },
      { email: 'writer@example.org', by: 'admin', actor: expect.stringMatching(/ \(admin CLI\)$/) },
    ]);
    expect(await notices()).toEqual([{ kind: 'notice:email-verified', recipient: 'writer@example.org' }]);

    const refusals: [string[], RegExp][] = [
      [
        ['verify-email', '--username', 'writer', '--email', 'writer.work@exämple.org'],
        new RegExp(`^writer\\.work@xn--exmple-cua\\.org is already verified on "writer" \\(since ${DATE}\\)\\. Nothing was changed\\.$`),
      ],
      [
        ['verify-email', '--username', 'writer', '--email', 'holder@example.org'],
        /^holder@example\.org is verified by another account, "holder": an address belongs to one account once verified\. Nothing was changed\.$/,
      ],
      [
        ['verify-email', '--username', 'holder', '--email', 'writer.work@example.org'],
        /^"holder" has no address writer\.work@example\.org: no account has it\. The user adds an address on their account page\. Nothing was changed\.$/,
      ],
      [
        ['verify-email', '--username', 'holder', '--email', 'Writer@Example.org'],
        new RegExp(`^"holder" has no address Writer@Example\\.org: it is on "writer" \\(primary, verified ${DATE}\\)\\. The user adds`),
      ],
      [['verify-email', '--username', 'nobody', '--email', 'writer@example.org'], /^No account named "nobody"\.$/],
      [['verify-email', '--email', 'writer@example.org'], /^--username is required\./],
      [['verify-email', '--username', 'writer'], /^--email is required\./],
    ];
    for (const [argv, message] of refusals) {
      const refused = captureIo();
      expect(await runAdmin(argv, refused, config), argv.join(' ')).toBe(1);
      expect(refused.err[0], argv.join(' ')).toMatch(message);
    }
    expect(await verifiedEvents()).toHaveLength(2);
    expect(await notices()).toHaveLength(1);
    // It queues mail, so it needs the server's key like the other commands that do.
    const otherKey = captureIo();
    expect(
      await runAdmin(['verify-email', '--username', 'writer', '--email', 'holder@example.org'], otherKey, testConfig({ databaseUrl: config.databaseUrl })),
    ).toBe(2);
    expect(otherKey.err.join('\n')).toMatch(/LATCHKEY_SECRET_KEY is not the key this database was written with/);
  });
});

describe.each(['sqlite', 'postgres'] as const)('admin CLI opens only a database the server has set up (%s)', (dialect) => {
  it('refuses a database no server has set up, creating and migrating nothing; a set-up one works', async () => {
    const database = await createTestDatabaseUrl(dialect);
    try {
      const config = testConfig({ databaseUrl: database.databaseUrl });
      // Before: the CLI made the database and its tables, then answered "No account named…" — or created the account there.
      const events = captureIo();
      expect(await runAdmin(['events', '--username', 'alice'], events, config)).toBe(2);
      const created = captureIo();
      expect(await runAdmin(['create-user', '--username', 'alice', '--email', 'alice@example.org'], created, config)).toBe(2);
      if (dialect === 'sqlite') {
        expect(events.err[0]).toMatch(/^Database error: There is no database at .*latchkey\.db, and the admin CLI does not create one\. Check DATABASE_URL/);
        expect(existsSync(database.databaseUrl.slice('sqlite:'.length))).toBe(false);
      } else {
        // The throw-away schema exists, empty.
        expect(events.err[0]).toMatch(/^Database error: PostgreSQL database "test" on [^,]+, schema "lk_test_\w+" has no Latchkey tables\. Check DATABASE_URL/);
        const db = openDatabase(database.databaseUrl);
        try {
          const tables = await sql<{ n: string }>`select count(*) as n from information_schema.tables where table_schema = current_schema()`.execute(db);
          expect(Number(tables.rows[0]!.n)).toBe(0);
        } finally {
          await db.destroy();
        }
        const missing = captureIo();
        const url = new URL(database.databaseUrl);
        url.searchParams.set('schema', `${url.searchParams.get('schema')}_missing`);
        expect(await runAdmin(['events', '--username', 'alice'], missing, testConfig({ databaseUrl: url.toString() }))).toBe(2);
        expect(missing.err[0]).toMatch(/schema "lk_test_\w+_missing": that schema does not exist\./);
      }
      expect(created.err[0]).toContain('Nothing was changed.');

      await startServerOnce(config);
      const found = captureIo();
      expect(await runAdmin(['events', '--username', 'alice'], found, config)).toBe(1);
      expect(found.err[0]).toBe('No account named "alice".');

      // A database this version's server has not brought up to date (an upgrade not restarted yet) is not migrated under it.
      const db = openDatabase(database.databaseUrl);
      try {
        await sql`delete from kysely_migration where name = '009-key-check'`.execute(db);
      } finally {
        await db.destroy();
      }
      const older = captureIo();
      expect(await runAdmin(['events', '--username', 'alice'], older, config)).toBe(2);
      expect(older.err[0]).toMatch(/is older than this admin CLI \(migration 009-key-check not applied yet\)\. Restart the server/);
    } finally {
      await database.drop();
    }
  });
});

/** An account with the app on and an unverified primary address, made by a server on `config`'s database; its id. */
async function seededWithApp(config: Config, username: string): Promise<string> {
  const latchkey = await createApp(config);
  try {
    const user = await latchkey.services.accounts.register({ username, email: `${username}@example.org`, password: 'a long enough admin password' }, NO_ORIGIN);
    await latchkey.services.totp.enable(user.id, latchkey.services.totp.generateSecret());
    return user.id;
  } finally {
    await latchkey.close();
  }
}

describe.each(['sqlite', 'postgres'] as const)('admin CLI: reset-2fa run again after a reset cut short (%s)', (dialect) => {
  let config: Config;
  useThrowAwayDatabase((started) => {
    config = started;
  }, dialect);

  it('lifts the locks the cut-short reset left on, says so, and records and mails nothing again', async () => {
    // Before: refused ("has no second factor … Nothing was changed"), exit 1, and the locks stayed on.
    const userId = await seededWithApp(config, 'cutshort');
    const mailOf = async (db: Kysely<Database>) => (await db.selectFrom('mail_outbox').select('kind').where('user_id', '=', userId).execute()).length;
    let mailAfterCut: number;
    const latchkey = await createApp(config);
    try {
      const { services } = latchkey;
      for (let i = 0; i < config.rateLimits.secondFactorPerAccount.max; i++) await services.rateLimits.attempt('second-factor', { account: userId, ip: null });
      for (let i = 0; i < 2; i++) await services.totpGuessBudget.take(userId);
      // A run of an earlier version (or of the service without a transaction), killed between its commit and the locks.
      const cutShort = createAdmin(
        services.db,
        services.accounts,
        services.events,
        {
          ...services.rateLimits,
          resetAccount: async () => {
            throw new Error('killed');
          },
        },
        services.totpGuessBudget,
      );
      await expect(cutShort.resetTwoFactor('cutshort', { reason: 'video call', actor: 'ops', refuseWithoutFactor: true })).rejects.toThrow('killed');
      mailAfterCut = await mailOf(services.db);
    } finally {
      await latchkey.close();
    }
    const again = captureIo();
    expect(await runAdmin(['reset-2fa', '--username', 'cutshort', '--reason', 'video call'], again, config)).toBe(0);
    expect(again.err).toEqual([]);
    expect(again.out).toEqual([
      '"cutshort" has no second factor left to remove (a reset already removed them, or two-factor authentication was off); lifted the second-factor ' +
        "locks still on the account: the pause on second-factor attempts (too many failures lately) and 2 wrong authentication-app codes counted against the year's authentication-app guessing budget.",
      'Nothing else was changed: no second reset recorded, no notice mailed.',
      'Next: "cutshort" logs in at http://localhost/account/login/ with the password alone and sets up two-factor authentication again.',
    ]);
    const after = await createApp(config);
    try {
      expect((await after.services.rateLimits.check('second-factor', { account: userId, ip: null })).blocked).toBe(false);
      expect(await after.db.selectFrom('totp_guesses').select('id').where('user_id', '=', userId).execute()).toEqual([]);
      expect((await after.services.events.list(userId)).filter((event) => event.tag === 'admin:two_factor:reset')).toHaveLength(1);
      expect(await mailOf(after.db)).toBe(mailAfterCut);
    } finally {
      await after.close();
    }
    // Nothing left to lift: refused, as for an account that never had a second factor.
    const third = captureIo();
    expect(await runAdmin(['reset-2fa', '--username', 'cutshort', '--reason', 'video call'], third, config)).toBe(1);
    expect(third.err[0]).toMatch(
      /^"cutshort" has no second factor \(no authentication app, security key or recovery code\) and no second-factor lock, so there is nothing to reset/,
    );
  });

  it('says which locks a reset lifted', async () => {
    const userId = await seededWithApp(config, 'lockedout');
    const latchkey = await createApp(config);
    try {
      for (let i = 0; i < config.rateLimits.secondFactorPerAccount.max; i++)
        await latchkey.services.rateLimits.attempt('second-factor', { account: userId, ip: null });
    } finally {
      await latchkey.close();
    }
    const reset = captureIo();
    expect(await runAdmin(['reset-2fa', '--username', 'lockedout', '--reason', 'video call'], reset, config)).toBe(0);
    expect(reset.out[1]).toBe('Lifted the second-factor locks: the pause on second-factor attempts (too many failures lately).');
  });
});

describe('admin CLI beside another process that holds the SQLite write lock', () => {
  let config: Config;
  useThrowAwayDatabase((started) => {
    config = started;
  });
  const file = () => config.databaseUrl.slice('sqlite:'.length);
  const seeded = (username: string) => seededWithApp(config, username);

  it('gives up after the busy timeout with exit 2, saying the database is locked and that nothing was changed', { timeout: 60_000 }, async () => {
    await seeded('locked');
    // Another connection's write transaction (the server's, mid-request): the CLI's first write waits for it, then gives up.
    const holder = new SQLite(file());
    holder.exec('begin immediate');
    const reset = captureIo();
    const started = Date.now();
    try {
      // It used to end "admin: database is locked", exit 3 ("unexpected failure": look at `events` for what was done).
      expect(await adminMain(['reset-2fa', '--username', 'locked', '--reason', 'video call'], reset, config)).toBe(2);
    } finally {
      holder.exec('rollback');
      holder.close();
    }
    // It waited (the 5 s busy timeout) before giving up.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
    expect(reset.out).toEqual([]);
    expect(reset.err).toEqual([
      `Database error: The SQLite file ${file()} is locked by another process writing to it (the server, or another admin command), ` +
        'and it stayed locked while this command waited. Nothing was changed. Try again in a moment.',
    ]);
    // Nothing was changed indeed: the app is still on, nothing recorded, nothing mailed.
    const latchkey = await createApp(config);
    try {
      const user = (await latchkey.services.accounts.findByUsername('locked'))!;
      expect((await latchkey.services.accounts.twoFactorStatus(user.id)).hasTotp).toBe(true);
      expect((await latchkey.services.events.list(user.id)).map((event) => event.tag)).not.toContain('admin:two_factor:reset');
      expect(
        await latchkey.db.selectFrom('mail_outbox').select('kind').where('user_id', '=', user.id).where('kind', 'like', 'notice:admin%').execute(),
      ).toEqual([]);
    } finally {
      await latchkey.close();
    }
    // Once the lock is gone, the same command does it.
    expect(await adminMain(['reset-2fa', '--username', 'locked', '--reason', 'video call'], captureIo(), config)).toBe(0);
  });

  it('waits for a lock another process lets go of within the busy timeout, also where the command reads before it writes', { timeout: 60_000 }, async () => {
    await seeded('waiting');
    // verify-email reads the address, then marks it: begun DEFERRED, that transaction was refused at once, whatever
    // the busy timeout (SQLite does not let a reader wait for the write lock). Now the CLI waits for the lock.
    const holder = await sqliteLockHeldByAnotherProcess(file(), 1_000);
    const verify = captureIo();
    try {
      expect(await adminMain(['verify-email', '--username', 'waiting', '--email', 'waiting@example.org'], verify, config)).toBe(0);
    } finally {
      holder.kill();
    }
    expect(verify.err).toEqual([]);
    expect(verify.out[0]).toBe('Marked waiting@example.org verified on "waiting", recorded in their security history with your name.');
  });
});

// On PostgreSQL the CLI used to wait for ever on a row another session held (an open `psql` with a `SELECT … FOR
// UPDATE`, a stuck process), saying nothing. Its connections now have a 5 s lock_timeout; 55P03 is said as SQLite's
// busy timeout is: exit 2 when nothing was changed, exit 3 ("may not have finished") when something was.
describe('admin CLI beside another PostgreSQL session that holds a row lock', () => {
  let config: Config;
  useThrowAwayDatabase((started) => {
    config = started;
  }, 'postgres');
  const where = () => {
    const url = new URL(config.databaseUrl);
    return `PostgreSQL database "${url.pathname.slice(1)}" on ${url.hostname}:${url.port}, schema "${url.searchParams.get('schema')}"`;
  };

  /**
   * Another session (its own connection) holding `FOR UPDATE` on the rows `locked` selects until released, as
   * an open transaction in `psql` would; released at the latest after 20 s, so a CLI that waits for ever
   * (the bug) ends the test with a wrong exit code rather than a hang.
   */
  async function heldByAnotherSession(locked: (db: Kysely<Database>) => Promise<unknown>) {
    const db = openDatabase(config.databaseUrl);
    const held = await holdTransaction(db, async (trx) => {
      expect(await locked(trx)).not.toEqual([]);
    });
    const safety = setTimeout(() => void held.release(), 20_000);
    return {
      release: async () => {
        clearTimeout(safety);
        await held.release();
        await db.destroy();
      },
    };
  }

  it('gives up after the lock timeout with exit 2 when the row it first changes stays locked, and nothing was changed', { timeout: 60_000 }, async () => {
    const userId = await seededWithApp(config, 'rowlocked');
    const holder = await heldByAnotherSession((db) => db.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute());
    const reset = captureIo();
    const started = Date.now();
    try {
      expect(await adminMain(['reset-2fa', '--username', 'rowlocked', '--reason', 'video call'], reset, config)).toBe(2);
    } finally {
      await holder.release();
    }
    // It waited (the 5 s lock timeout) before giving up, and not for ever.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(reset.out).toEqual([]);
    expect(reset.err).toEqual([
      `Database error: ${where()} is locked by another process writing to it (the server, or another admin command), ` +
        'and it stayed locked while this command waited. Nothing was changed. Try again in a moment.',
    ]);
    const latchkey = await createApp(config);
    try {
      expect((await latchkey.services.accounts.twoFactorStatus(userId)).hasTotp).toBe(true);
      expect((await latchkey.services.events.list(userId)).map((event) => event.tag)).not.toContain('admin:two_factor:reset');
    } finally {
      await latchkey.close();
    }
    // Once the lock is gone, the same command does it.
    expect(await adminMain(['reset-2fa', '--username', 'rowlocked', '--reason', 'video call'], captureIo(), config)).toBe(0);
  });

  it('a lock on the counters stops the whole reset, not the half after its commit: exit 2, nothing changed; run again, it does all of it', {
    timeout: 60_000,
  }, async () => {
    // Before: the reset committed, then the lock stopped the lifting of the locks: exit 3 ("may not have
    // finished"), the factors gone and the locks on — and running it again was refused ("no second factor").
    const userId = await seededWithApp(config, 'halfdone');
    // A wrong second factor: the account's counter row, which reset-2fa clears in the same transaction as the rest.
    const latchkey = await createApp(config);
    try {
      await latchkey.services.rateLimits.attempt('second-factor', { account: userId, ip: null });
    } finally {
      await latchkey.close();
    }
    const holder = await heldByAnotherSession((db) =>
      db.selectFrom('rate_limits').select('key').where('key', '=', `second-factor:account:${userId}`).forUpdate().execute(),
    );
    const reset = captureIo();
    try {
      expect(await adminMain(['reset-2fa', '--username', 'halfdone', '--reason', 'video call'], reset, config)).toBe(2);
    } finally {
      await holder.release();
    }
    expect(reset.out).toEqual([]);
    expect(reset.err).toEqual([
      `Database error: ${where()} is locked by another process writing to it (the server, or another admin command), ` +
        'and it stayed locked while this command waited. Nothing was changed. Try again in a moment.',
    ]);
    const after = await createApp(config);
    try {
      expect((await after.services.accounts.twoFactorStatus(userId)).hasTotp).toBe(true);
      expect((await after.services.events.list(userId)).map((event) => event.tag)).not.toContain('admin:two_factor:reset');
      expect(await after.db.selectFrom('mail_outbox').select('kind').where('user_id', '=', userId).where('kind', 'like', 'notice:admin%').execute()).toEqual(
        [],
      );
    } finally {
      await after.close();
    }
    const again = captureIo();
    expect(await adminMain(['reset-2fa', '--username', 'halfdone', '--reason', 'video call'], again, config)).toBe(0);
    expect(again.out[0]).toContain('reset for "halfdone": removed the authentication app');
  });

  it('waits for a row lock let go of within the lock timeout', { timeout: 60_000 }, async () => {
    await seededWithApp(config, 'briefly');
    const holder = await heldByAnotherSession((db) =>
      db.selectFrom('user_emails').select('id').where('email', '=', 'briefly@example.org').forUpdate().execute(),
    );
    const releasing = new Promise((resolve) => setTimeout(resolve, 1_000)).then(() => holder.release());
    const verify = captureIo();
    try {
      expect(await adminMain(['verify-email', '--username', 'briefly', '--email', 'briefly@example.org'], verify, config)).toBe(0);
    } finally {
      await releasing;
    }
    expect(verify.err).toEqual([]);
  });
});

describe('admin CLI without LATCHKEY_SECRET_KEY (the configuration read from the environment)', () => {
  let home: string;
  let directories: ConfigDirectories;
  let drop: () => Promise<void>;
  const saved = { ...process.env };
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'latchkey-admin-home-'));
    directories = { data: join(home, 'data'), config: join(home, 'config') };
    const database = await createTestDatabaseUrl('sqlite');
    drop = database.drop;
    // The server ran with its own key (from its secret store): the database records that key's check value.
    await startServerOnce(testConfig({ databaseUrl: database.databaseUrl }));
    for (const name of ['LATCHKEY_SECRET_KEY', 'NODE_ENV', 'LATCHKEY_ORIGIN']) delete process.env[name];
    process.env.DATABASE_URL = database.databaseUrl;
  });
  afterAll(async () => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    rmSync(home, { recursive: true, force: true });
    await drop?.();
  });

  it('events (read only) writes no key file; create-user without the key is refused before one is generated', async () => {
    // Before: `events` generated a key and kept it in the operator's config directory, and the next reset-2fa
    // was refused with "LATCHKEY_SECRET_KEY is not the key…" though no such variable had been set.
    expect(await runAdmin(['events', '--username', 'alice'], captureIo(), undefined, directories)).toBe(1);
    expect(readdirSync(home)).toEqual([]);
    const io = captureIo();
    expect(await runAdmin(['create-user', '--username', 'alice', '--email', 'alice@example.org'], io, undefined, directories)).toBe(2);
    expect(io.err.join('\n')).toMatch(
      /^Configuration error: LATCHKEY_SECRET_KEY is not set, and this system user \(.+\) has no key file \(.*latchkey-secret\.key\)\./,
    );
    expect(readdirSync(home)).toEqual([]);
  });

  it('refuses a command whose mail carries links when LATCHKEY_ORIGIN is not set (they would point at localhost); --verified mails none', async () => {
    const database = await createTestDatabaseUrl('sqlite');
    const key = testConfig().secretKey;
    const databaseUrl = process.env.DATABASE_URL;
    try {
      await startServerOnce(testConfig({ databaseUrl: database.databaseUrl, secretKey: key }));
      Object.assign(process.env, { DATABASE_URL: database.databaseUrl, LATCHKEY_SECRET_KEY: key });
      const linked = captureIo();
      // Before: a warning on stderr, the account made, and a link to http://localhost:8080 mailed to the user.
      expect(await runAdmin(['create-user', '--username', 'carol', '--email', 'carol@example.org'], linked, undefined, directories)).toBe(2);
      expect(linked.err.join('\n')).toMatch(
        /^Configuration error: LATCHKEY_ORIGIN is not set, and the mail this command queues carries links .*http:\/\/localhost:8080.*Nothing was changed\.$/,
      );
      const reset = captureIo();
      expect(await runAdmin(['reset-2fa', '--username', 'carol', '--reason', 'video call'], reset, undefined, directories)).toBe(2);
      expect(reset.err.join('\n')).toContain('LATCHKEY_ORIGIN is not set');
      const db = openDatabase(database.databaseUrl);
      try {
        expect(await db.selectFrom('users').select('username').execute()).toEqual([]);
      } finally {
        await db.destroy();
      }
      expect(await runAdmin(['create-user', '--username', 'carol', '--email', 'carol@example.org', '--verified'], captureIo(), undefined, directories)).toBe(0);
      process.env.LATCHKEY_ORIGIN = 'https://index.example.org';
      const withOrigin = captureIo();
      expect(await runAdmin(['create-user', '--username', 'dave', '--email', 'dave@example.org'], withOrigin, undefined, directories)).toBe(0);
      expect(withOrigin.out.join('\n')).toContain('https://index.example.org/account/login/');
    } finally {
      for (const name of ['LATCHKEY_ORIGIN', 'LATCHKEY_SECRET_KEY']) delete process.env[name];
      process.env.DATABASE_URL = databaseUrl;
      await database.drop();
    }
  });

  it('prints the configuration warnings (an unknown NODE_ENV) on stderr', async () => {
    process.env.NODE_ENV = 'staging';
    try {
      const io = captureIo();
      expect(await runAdmin(['events', '--username', 'nobody'], io, undefined, directories)).toBe(1);
      expect(io.err[0]).toMatch(/^Warning: NODE_ENV="staging" is not development, test or production/);
    } finally {
      delete process.env.NODE_ENV;
    }
  });

  it('uses the key file the server generated for this system user', async () => {
    const database = await createTestDatabaseUrl('sqlite');
    try {
      // A server run by this system user without LATCHKEY_SECRET_KEY: it generates the file and records its check value.
      const serverConfig = await loadConfig({ DATABASE_URL: database.databaseUrl }, directories);
      expect(serverConfig.secretKeyGenerated).toBe(true);
      await startServerOnce({ ...serverConfig, argon2: testConfig().argon2 });
      process.env.DATABASE_URL = database.databaseUrl;
      const io = captureIo();
      expect(await runAdmin(['create-user', '--username', 'bob', '--email', 'bob@example.org', '--verified'], io, undefined, directories)).toBe(0);
      expect(io.err.join('\n')).toContain('Warning: Using the generated secret key in');
    } finally {
      await database.drop();
    }
  });
});
