import { describe, expect, it } from 'vitest';
import { ROUTES } from '@latchkey/shared';
import * as emailKeysMigration from '../db/migrations/010-email-keys.js';
import { linkIn, readOutbox } from '../testing/read-outbox.js';
import { requestResetLinks } from '../testing/reset-links.js';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { NO_ORIGIN } from './events.js';
import { uniqueName } from '../testing/unique-name.js';

const PASSWORD = 'correct horse battery staple';

/**
 * One address, one key, whichever way it is typed (services/email-address.ts), in every form that takes an
 * address — and addresses stored before that rule (keyed as typed then: trimmed and lower-cased only) found
 * once migration 010 has re-keyed them. QA: a precomposed and a decomposed "é" were two addresses; an address
 * stored under the old key could be verified by a second account in its other spelling.
 */
describe.each(DIALECTS)('addresses compared by one key on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  /**
   * An account whose primary address is `stored`, verified or not, as a row made before the rule was (its key:
   * trimmed, lower case), then the upgrade: migration 010 run over the database.
   */
  const accountWithStoredAddress = async (stored: string, { verified = true } = {}) => {
    const username = uniqueName('addr');
    const user = await h.services.accounts.register({ username, email: `${username}@example.org`, password: PASSWORD }, NO_ORIGIN, {
      emailVerified: verified,
    });
    await h.db.updateTable('users').set({ email: stored }).where('id', '=', user.id).execute();
    await h.db.updateTable('user_emails').set({ email: stored, email_key: stored.trim().toLowerCase() }).where('user_id', '=', user.id).execute();
    await emailKeysMigration.up(h.db as unknown as Parameters<typeof emailKeysMigration.up>[0]);
    return { ...user, email: stored };
  };

  it('one mailbox added in another spelling (case, decomposed accent, Unicode or ASCII domain) is already on the account', async () => {
    const username = uniqueName('addr');
    const user = await h.services.accounts.register({ username, email: `${username}@example.org`, password: PASSWORD });
    const added = await h.services.emails.add(user.id, `Ann.${username}@exämple.org`, NO_ORIGIN);
    expect(added.email).toBe(`Ann.${username}@xn--exmple-cua.org`);
    for (const typed of [`ann.${username}@exa\u0308mple.org`, `ANN.${username}@XN--EXMPLE-CUA.ORG`]) {
      await expect(h.services.emails.checkMailable(user.id, { add: typed }), typed).rejects.toMatchObject({ status: 409, field: 'email' });
      await expect(h.services.emails.add(user.id, typed, NO_ORIGIN), typed).rejects.toMatchObject({ status: 409, field: 'email' });
    }
  });

  it('an address stored with a non-ASCII name (a decomposed "ö") before the rule still gets reset links, typed precomposed or decomposed', async () => {
    const name = uniqueName('addr');
    const user = await accountWithStoredAddress(`Jo\u0308rg.${name}@example.org`);
    for (const typed of [`j\u00F6rg.${name}@example.org`, `JO\u0308RG.${name}@example.org`]) {
      const links = await requestResetLinks(h.services, typed);
      expect(
        links.map((link) => [link.userId, link.to]),
        typed,
      ).toEqual([[user.id, user.email]]);
    }
  });

  it('an address stored with a Unicode domain before the rule is still found as stored, and is on the account in its ASCII spelling', async () => {
    const name = uniqueName('addr');
    const user = await accountWithStoredAddress(`${name}@exämple.org`);
    expect((await requestResetLinks(h.services, `${name}@exämple.org`)).map((link) => link.to)).toEqual([user.email]);
    expect((await requestResetLinks(h.services, `${name}@XN--EXMPLE-CUA.ORG`)).map((link) => link.to)).toEqual([user.email]);
    // Adding the same mailbox again, now in its ASCII form, is refused as already there.
    await expect(h.services.emails.add(user.id, `${name}@xn--exmple-cua.org`, NO_ORIGIN)).rejects.toMatchObject({
      status: 409,
      message: 'This address is already on your account.',
    });
    // And the account keeps working with it: listed, and still its primary address.
    expect(await h.services.emails.list(user.id)).toEqual([expect.objectContaining({ email: user.email, primary: true, verified: true })]);
  });

  it('an address verified before the rule cannot be verified by another account in its other spelling', async () => {
    const name = uniqueName('addr');
    await accountWithStoredAddress(`${name}@exämple.org`);
    const otherName = uniqueName('addr');
    const other = await h.services.accounts.register({ username: otherName, email: `${otherName}@example.org`, password: PASSWORD });
    const added = await h.services.emails.add(other.id, `${name}@exämple.org`, NO_ORIGIN);
    expect(added.email).toBe(`${name}@xn--exmple-cua.org`);
    const [mail] = await readOutbox(h.services, { to: added.email, kind: 'verify-email' });
    const token = new URLSearchParams(linkIn(mail!.text, ROUTES.verifyEmail)!.split('?')[1]).get('token');
    // Before: the check compared the other account's key with the old-rule key of the first row, and both were verified.
    expect(await h.services.emails.verify(token, other.id, NO_ORIGIN)).toEqual({ ok: false, problem: 'taken' });
    await expect(h.services.emails.markVerified(other.id, `${name}@exämple.org`)).rejects.toMatchObject({
      status: 409,
      message: 'This address is already verified by another account.',
    });
  });

  it('the notices about an address stored before the rule find its row: the previous primary is told, a primary is not told of itself', async () => {
    const name = uniqueName('addr');
    const user = await accountWithStoredAddress(`${name}@exämple.org`);
    const second = await h.services.emails.add(user.id, `${name}.second@example.org`, NO_ORIGIN);
    await h.services.emails.markVerified(user.id, second.email);
    await h.services.emails.makePrimary(user.id, second.id, NO_ORIGIN);
    // Before: the notice looked for the key `from` had under the old rule, found no row, and mailed no one.
    expect((await readOutbox(h.services, { to: user.email, kind: 'notice:primary-email-changed' })).length).toBe(1);

    const other = await accountWithStoredAddress(`${name}.other@exämple.org`, { verified: false });
    await h.services.emails.markVerified(other.id, other.email);
    // Verifying the primary address itself tells no one (it used to tell that very address it had been "added").
    expect(await readOutbox(h.services, { to: other.email, kind: 'notice:email-verified' })).toEqual([]);
  });

  it('an administrator verifies an address stored before the rule, typed in its other spelling', async () => {
    const name = uniqueName('addr');
    const user = await accountWithStoredAddress(`${name}@exämple.org`, { verified: false });
    const verified = await h.services.emails.markVerified(user.id, ` ${name.toUpperCase()}@xn--exmple-cua.org `, { actor: 'root@host (admin CLI)' });
    expect(verified).toMatchObject({ email: user.email, primary: true, verified: true });
    expect((await h.services.events.list(user.id))[0]).toMatchObject({
      tag: 'account:email:verified',
      details: { email: user.email, by: 'admin', actor: 'root@host (admin CLI)' },
    });
  });
});
