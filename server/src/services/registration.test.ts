import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceHarness, DIALECTS, type ServiceHarness } from '../testing/service-harness.js';
import { createAccounts, isReservedUsername } from './accounts.js';
import { ServiceError } from './errors.js';
import type { Events } from './events.js';
import { NO_ORIGIN } from './events.js';

const PASSWORD = 'correct horse battery staple';
let counter = 0;
const uniqueName = () => `reg${Date.now().toString(36)}${(counter++).toString(36)}`;

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
});

describe.each(DIALECTS)('registration on %s', (dialect) => {
  let h: ServiceHarness;
  beforeAll(async () => {
    h = await createServiceHarness(dialect);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('writes the account, its address, its verification mail and its first event together, or none of them', async () => {
    const failure = new Error('events table unavailable');
    const failing: Events = {
      ...h.services.events,
      record: () => Promise.reject(failure),
      boundTo: () => ({ ...h.services.events, record: () => Promise.reject(failure) }),
    };
    // The services' own `onCreated` (services/index.ts): the first address and its mail, in the registration's transaction.
    const accounts = createAccounts(h.db, h.services.passwords, failing, h.clock, (trx, user, { emailVerified }) =>
      h.services.boundTo(trx).emails.addFirst(user, user.email, { verified: emailVerified }),
    );
    const username = uniqueName();
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
