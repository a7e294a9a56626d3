import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../db/schema.js';
import { holdTransaction, untilSomeoneWaitsOnALock } from '../testing/held-transaction.js';
import { createServiceHarness, DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { createAccounts, isReservedUsername } from './accounts.js';
import { ServiceError } from './errors.js';
import type { Events } from './events.js';
import { NO_ORIGIN } from './events.js';
import type { Passwords } from './passwords.js';
import { uniqueName } from '../testing/unique-name.js';

const PASSWORD = 'correct horse battery staple';

describe('isReservedUsername', () => {
  it('knows the index’s and its staff’s names, spelt with any separators, and the index’s names as a part', () => {
    for (const name of [
      'admin',
      'ad.min',
      'no-reply',
      'no_reply',
      'mailer-daemon',
      'pypi',
      'py-pi',
      'test.pypi',
      'pypi-admin',
      'security-pypi',
      'latchkey.support',
    ]) {
      expect(isReservedUsername(name), name).toBe(true);
    }
    for (const name of ['adminton', 'pypiserver', 'happypiano', 'rootbeer', 'helper', 'kim', 'security-researcher', 'python-dev']) {
      expect(isReservedUsername(name), name).toBe(false);
    }
  });

  it('knows the configured index’s name too, compared as the list is (without separators, spaces or punctuation)', () => {
    for (const name of ['example-index', 'exampleindex', 'example.index', 'example_index']) {
      expect(isReservedUsername(name, 'Example Index'), name).toBe(true);
      expect(isReservedUsername(name), name).toBe(false);
    }
    expect(isReservedUsername('acme', 'ACME')).toBe(true);
    expect(isReservedUsername('acme-packages', 'Acme (packages)')).toBe(true);
    // Only the whole name: a name holding one of its words is someone's.
    for (const name of ['example', 'index', 'example-index-fan', 'acmepackages2']) expect(isReservedUsername(name, 'Example Index'), name).toBe(false);
    // A name with no letters or digits reserves nothing.
    expect(isReservedUsername('a', '★')).toBe(false);
  });
});

describe.each(DIALECTS)('registration on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  it('writes the account, its address, its verification mail and its first event together, or none of them', async () => {
    const failure = new Error('events table unavailable');
    const failing: Events = {
      ...h.services.events,
      record: () => Promise.reject(failure),
      boundTo: () => ({ ...h.services.events, record: () => Promise.reject(failure) }),
    };
    // The services' own `onCreated` (services/index.ts): the first address and its mail, in the registration's transaction.
    const accounts = createAccounts(h.db, h.services.passwords, failing, h.clock, {
      indexName: h.config.rpName,
      onCreated: (trx, user, { emailVerified }) => h.services.boundTo(trx).emails.addFirst(user, user.email, { verified: emailVerified }),
    });
    const username = uniqueName('reg');
    await expect(accounts.register({ username, email: `${username}@example.org`, password: PASSWORD }, NO_ORIGIN)).rejects.toBe(failure);
    expect(await h.services.accounts.findByUsername(username)).toBeUndefined();
    expect(await h.db.selectFrom('user_emails').select('id').where('email', '=', `${username}@example.org`).execute()).toEqual([]);
    expect(await h.db.selectFrom('mail_outbox').select('id').where('recipient', '=', `${username}@example.org`).execute()).toEqual([]);
    // The name is free: nothing of the failed attempt holds it.
    expect((await h.services.accounts.register({ username, email: `${username}@example.org`, password: PASSWORD })).username).toBe(username);
  });

  it('refuses a reserved name unless an operator creates it on purpose', async () => {
    const input = { username: 'Security', email: 'security-team@example.org', password: PASSWORD };
    const refusal = await h.services.accounts.register(input).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ServiceError);
    expect((refusal as ServiceError).status).toBe(400);
    expect((refusal as ServiceError).fieldErrors).toEqual({
      username: 'This username is reserved: people could take it for this index’s own staff or services. Choose another one.',
    });
    const staff = await h.services.accounts.register(input, NO_ORIGIN, { allowReservedName: true });
    expect(staff.username).toBe('security');
    // Taken now: the ordinary answer, reserved or not.
    expect((await h.services.accounts.registrationProblems(input, { allowReservedName: true })).status).toBe(409);
  });
});

/**
 * QA: a name registered and deleted while another registration of it hashed its password (argon2, tens of
 * milliseconds after its checks) slipped past the `deleted_usernames` check: nothing links that table to
 * `users`. The interleaving is pinned: the late registration is held inside its hash, after its checks found
 * the name free.
 */
describe.each(DIALECTS)('a deleted name racing a registration on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  /** A registration of `username` whose password hash waits for `finishHash()`; `hashing` resolves once its checks passed. */
  const registrationHeldInItsHash = (username: string) => {
    let finishHash!: () => void;
    const gate = new Promise<void>((resolve) => {
      finishHash = resolve;
    });
    let reached!: () => void;
    const hashing = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const passwords: Passwords = {
      ...h.services.passwords,
      hash: async (password) => {
        reached();
        await gate;
        return h.services.passwords.hash(password);
      },
    };
    const accounts = createAccounts(h.db, passwords, h.services.events, h.clock, {
      indexName: h.config.rpName,
      onCreated: (trx, user, { emailVerified }) => h.services.boundTo(trx).emails.addFirst(user, user.email, { verified: emailVerified }),
    });
    const outcome = accounts.register({ username, email: `late-${username}@example.org`, password: PASSWORD }).then(
      (user) => ({ user }) as { user?: User; error?: unknown },
      (error: unknown) => ({ error }) as { user?: User; error?: unknown },
    );
    return { hashing, finishHash, outcome };
  };

  const expectRefusedAsDeleted = async (outcome: Promise<{ user?: User; error?: unknown }>, username: string) => {
    const { user, error } = await outcome;
    expect(user?.username ?? null, 'the late registration got the deleted name').toBeNull();
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).status).toBe(409);
    expect((error as ServiceError).fieldErrors).toEqual({
      username: 'This username belonged to an account that was deleted, and cannot be used again. Choose another one.',
    });
    expect(await h.services.accounts.findByUsername(username)).toBeUndefined();
    // Nothing of the refused registration is left: its address and its verification mail rolled back with it.
    expect(await h.db.selectFrom('user_emails').select('id').where('email', '=', `late-${username}@example.org`).execute()).toEqual([]);
    expect(await h.db.selectFrom('mail_outbox').select('id').where('recipient', '=', `late-${username}@example.org`).execute()).toEqual([]);
  };

  it('a name registered and deleted during the hash is refused when the registration writes', async () => {
    const username = uniqueName('reg');
    const late = registrationHeldInItsHash(username);
    await late.hashing;
    const first = await h.services.accounts.register({ username, email: `${username}@example.org`, password: PASSWORD });
    expect(await h.services.accounts.deleteAccount(first, NO_ORIGIN)).toBe('deleted');
    late.finishHash();
    await expectRefusedAsDeleted(late.outcome, username);
  });

  it('a deletion still committing when the registration inserts the name: the insert waits for it, then the name is refused', async () => {
    const username = uniqueName('reg');
    const late = registrationHeldInItsHash(username);
    await late.hashing;
    const first = await h.services.accounts.register({ username, email: `${username}@example.org`, password: PASSWORD });
    // The owner's deletion, held open after it removed the account (its `deleted_usernames` row not yet committed).
    const deletion = await holdTransaction(h.db, async (trx) => {
      expect(await h.services.boundTo(trx).accounts.deleteAccount(first, NO_ORIGIN)).toBe('deleted');
    });
    late.finishHash();
    // PostgreSQL: the late INSERT waits on the unique index for the deleting transaction. SQLite: the late
    // registration's transaction queues behind it for the one connection.
    await Promise.race([late.outcome, untilSomeoneWaitsOnALock(h.db, dialect)]);
    await deletion.release();
    await expectRefusedAsDeleted(late.outcome, username);
  });
});

/**
 * QA: the password rule's service word was the fixed `latchkey`, and the reserved names never held the name
 * the index is configured with (LATCHKEY_RP_NAME). NIST SP 800-63B 5.1.1.2 lists "the name of the service"
 * among the context-specific words to refuse; a user named like the index reads as the index itself.
 */
describe.each(DIALECTS)('the configured index’s name on %s', (dialect) => {
  let h: ServiceHarness;
  beforeAll(async () => {
    h = await createServiceHarness(dialect, { rpName: 'Example Index' });
  });
  afterAll(async () => {
    await h?.close();
  });

  const RESERVED = 'This username is reserved: people could take it for this index’s own staff or services. Choose another one.';
  const IN_PASSWORD = 'The password must not contain the name of this service (“Example Index”).';

  it('is reserved as a username for new accounts, in any spelling the reserved list accepts', async () => {
    for (const username of ['example-index', 'Example.Index', 'EXAMPLEINDEX']) {
      const input = { username, email: 'someone@example.org', password: PASSWORD };
      expect(await h.services.accounts.registrationProblems(input), username).toEqual({ status: 400, fieldErrors: { username: RESERVED } });
    }
    await expect(h.services.accounts.register({ username: 'example_index', email: 'someone@example.org', password: PASSWORD })).rejects.toMatchObject({
      status: 400,
      fieldErrors: { username: RESERVED },
    });
    expect(await h.services.accounts.findByUsername('example_index')).toBeUndefined();
    // An operator may still create it (the admin CLI's staff account).
    const staff = await h.services.accounts.register({ username: 'example-index', email: 'staff@example.org', password: PASSWORD }, NO_ORIGIN, {
      allowReservedName: true,
    });
    expect(staff.username).toBe('example-index');
  });

  it('is refused inside a password, at registration and when the password is changed or reset', async () => {
    for (const password of ['welcome to Example Index!', 'my-example-index-password', 'EXAMPLEINDEX rules 2026']) {
      const problems = await h.services.accounts.registrationProblems({ username: uniqueName('reg'), email: 'someone@example.org', password });
      expect(problems.fieldErrors, password).toEqual({ new_password: IN_PASSWORD });
    }
    const user = await h.services.accounts.register({ username: uniqueName('reg'), email: 'someone@example.org', password: PASSWORD });
    for (const reason of ['change', 'reset'] as const) {
      await expect(h.services.passwordChanges.setPassword(user.id, 'the example index of all things', { reason })).rejects.toMatchObject({
        status: 400,
        field: 'new_password',
        message: IN_PASSWORD,
      });
    }
    expect(await h.services.accounts.verifyPassword(await h.services.accounts.findById(user.id), PASSWORD)).toBe(true);
    // One of its words alone is not the name.
    expect((await h.services.accounts.registrationProblems({ password: 'an index of example sentences' })).fieldErrors).toEqual({});
  });
});
