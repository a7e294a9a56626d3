import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestResetLinks } from '../testing/reset-links.js';
import { createServiceHarness, DIALECTS, type ServiceHarness } from '../testing/service-harness.js';
import { NO_ORIGIN } from './events.js';

const PASSWORD = 'correct horse battery staple';
let counter = 0;
const uniqueName = () => `addr${Date.now().toString(36)}${(counter++).toString(36)}`;

/**
 * One address, one key, whichever way it is typed (services/email-address.ts), in every form that takes an
 * address — and addresses stored before that rule (keyed as typed then: trimmed and lower-cased only) still
 * found. QA: a precomposed and a decomposed "é" were two addresses.
 */
describe.each(DIALECTS)('addresses compared by one key on %s', (dialect) => {
  let h: ServiceHarness;
  beforeAll(async () => {
    h = await createServiceHarness(dialect);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** An account whose primary address is `stored`, verified, written as a row made before the rule was (its key: trimmed, lower case). */
  const accountWithStoredAddress = async (stored: string) => {
    const username = uniqueName();
    const user = await h.services.accounts.register({ username, email: `${username}@example.org`, password: PASSWORD }, NO_ORIGIN, { emailVerified: true });
    await h.db.updateTable('users').set({ email: stored }).where('id', '=', user.id).execute();
    await h.db.updateTable('user_emails').set({ email: stored, email_key: stored.trim().toLowerCase() }).where('user_id', '=', user.id).execute();
    return { ...user, email: stored };
  };

  it('one mailbox added in another spelling (case, decomposed accent, Unicode or ASCII domain) is already on the account', async () => {
    const username = uniqueName();
    const user = await h.services.accounts.register({ username, email: `${username}@example.org`, password: PASSWORD });
    const added = await h.services.emails.add(user.id, `Ann.${username}@exämple.org`, NO_ORIGIN);
    expect(added.email).toBe(`Ann.${username}@xn--exmple-cua.org`);
    for (const typed of [`ann.${username}@exa\u0308mple.org`, `ANN.${username}@XN--EXMPLE-CUA.ORG`]) {
      await expect(h.services.emails.checkMailable(user.id, { add: typed }), typed).rejects.toMatchObject({ status: 409, field: 'email' });
      await expect(h.services.emails.add(user.id, typed, NO_ORIGIN), typed).rejects.toMatchObject({ status: 409, field: 'email' });
    }
  });

  it('an address stored with a non-ASCII name before the rule still gets reset links, typed precomposed or decomposed', async () => {
    const name = uniqueName();
    const user = await accountWithStoredAddress(`J\u00F6rg.${name}@example.org`);
    for (const typed of [`j\u00F6rg.${name}@example.org`, `JO\u0308RG.${name}@example.org`]) {
      const links = await requestResetLinks(h.services, typed);
      expect(
        links.map((link) => [link.userId, link.to]),
        typed,
      ).toEqual([[user.id, user.email]]);
    }
  });

  it('an address stored with a Unicode domain before the rule is still found as stored, and is on the account in its ASCII spelling', async () => {
    const name = uniqueName();
    const user = await accountWithStoredAddress(`${name}@exämple.org`);
    expect((await requestResetLinks(h.services, `${name}@exämple.org`)).map((link) => link.to)).toEqual([user.email]);
    // Adding the same mailbox again, now in its ASCII form, is refused as already there (each row's address is keyed again).
    await expect(h.services.emails.add(user.id, `${name}@xn--exmple-cua.org`, NO_ORIGIN)).rejects.toMatchObject({
      status: 409,
      message: 'This address is already on your account.',
    });
    // And the account keeps working with it: listed, and still its primary address.
    expect(await h.services.emails.list(user.id)).toEqual([expect.objectContaining({ email: user.email, primary: true, verified: true })]);
  });
});
