import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { DEFAULT_REQUEST_LIMITS, LIFTED_REQUEST_LIMITS, testConfig } from '../config.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { startServer, type RunningServer } from '../main.js';
import { ClientAt } from '../testing/browser.js';
import { PASSWORD, submitRegistration } from '../testing/http-harness.js';
import { readOutbox } from '../testing/read-outbox.js';
import { DIALECTS } from '../testing/service-harness.js';
import { uniqueName } from '../testing/unique-name.js';

const CAP = DEFAULT_REQUEST_LIMITS['verification-resend'].perRecipient!;

/** A host on network block `n` (a /24 of its own). */
const networkIp = (n: number, host = 9) => `198.18.${n}.${host}`;

describe.each(DIALECTS)('verification mails to one mailbox over HTTP, two servers over one %s database', (dialect) => {
  let servers: RunningServer[] = [];
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabaseUrl(dialect);
    drop = database.drop;
    // The shipped verification-mail limits; registrations lifted (every test registers from 127.0.0.1). One
    // configuration, so one secret key and one database, as two instances of one deployment have.
    const requestLimits = { ...LIFTED_REQUEST_LIMITS, 'verification-resend': DEFAULT_REQUEST_LIMITS['verification-resend'] };
    // One proxy hop in front (LATCHKEY_TRUST_PROXY=1): X-Forwarded-For names the client, so tests come from many networks.
    const config = testConfig({ databaseUrl: database.databaseUrl, port: 0, requestLimits, trustProxy: 1 });
    servers = [await startServer(config)];
    servers.push(await startServer(config));
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await drop?.();
  });

  const services = () => servers[0]!.services;
  /** A browser on server `i % 2`, from `ip` (a host of network block `i` unless given). */
  const browserOn = (i: number, ip = networkIp(i)) => new ClientAt(servers[i % 2]!.url, ip);
  /** The same browser (cookies, CSRF token, network) talking to server `i`: one deployment, sessions in the shared database. */
  const movedTo = (b: ClientAt, i: number) => {
    const moved = new ClientAt(servers[i]!.url, b.ip);
    for (const [name, value] of b.cookies) moved.cookies.set(name, value);
    moved.csrfToken = b.csrfToken;
    return moved;
  };
  async function register(b: ClientAt, email: string) {
    const username = uniqueName('capped');
    const response = await submitRegistration(b, { username, email });
    return { response, userId: async () => (await services().accounts.findByUsername(username))!.id };
  }
  const verifyMails = async (to: string) => (await readOutbox(services(), { to, kind: 'verify-email' })).length;
  const WHY =
    'this address has been sent several verification e-mails recently, and we hold off for a while so that its mailbox cannot be flooded. Try again in 60 minutes.';
  const REFUSAL = `No e-mail sent: ${WHY}`;
  /** The add form's refusal says that nothing was added, not only that no mail went. */
  const ADD_REFUSAL = `Not added, and no e-mail sent: ${WHY}`;

  it('registering a mailbox others flooded still makes the account, says no link was sent and when to resend, and enumerates nothing', async () => {
    const victim = `${uniqueName('victim')}@example.org`;
    const registered = [];
    for (let i = 0; i < CAP.max + 1; i++) {
      const b = browserOn(i);
      registered.push({ b, ...(await register(b, victim)) });
    }
    // The same answer for every registration, mailed or not.
    for (const { response } of registered)
      expect({ status: response.status, location: response.location }).toEqual({ status: 303, location: ROUTES.manageAccount });
    expect(await verifyMails(victim)).toBe(CAP.max);

    const mailed = await registered[0]!.b.get(ROUTES.manageAccount);
    expect(mailed.text).toContain(`Welcome! We sent a link to ${victim}`);
    // A link went: it is the one to open, and the button sends another.
    expect(mailed.text).toContain(`Open the link we sent to <bdi>${victim}</bdi> while logged in.`);
    expect(mailed.text).toContain(`aria-label="Resend link: ${victim}"`);
    expect(mailed.text).not.toContain(`aria-label="Send link: ${victim}"`);
    const late = registered.at(-1)!;
    const withheld = await late.b.get(ROUTES.manageAccount);
    expect(withheld.status).toBe(200);
    // It names the button the page shows and when it works: nobody has tried anything yet, so no "try again".
    expect(withheld.text).toContain(
      `Welcome! Your account is ready, but no verification link was sent to ${victim}: this address has been sent several verification e-mails recently, and we hold off for a while so that its mailbox cannot be flooded. Two-factor authentication needs a verified address: use “Send link” below in 60 minutes.`,
    );
    expect(withheld.text).not.toContain('below later');
    expect(withheld.text).not.toContain('Try again in');
    // The address list does not claim a link that was never sent, and says when "Send link" works.
    expect(withheld.text).toContain(
      `No link has been sent to <bdi>${victim}</bdi> yet: use “Send link” below in 60 minutes, then open the link while logged in.`,
    );
    expect(withheld.text).toContain('no link yet; “Send link” works in 60 minutes');
    expect(withheld.text).not.toContain('Open the link we sent');
    expect(withheld.text).not.toContain('link sent ');
    // Nothing was ever sent to it: "Send link", not "Resend link".
    expect(withheld.text).toContain(`aria-label="Send link: ${victim}"`);
    expect(withheld.text).not.toContain('Resend link');

    // "Resend link" now: refused with when to come back, on either server, and still nothing mailed.
    const [address] = await services().emails.list(await late.userId());
    for (const i of [0, 1]) {
      const resent = await movedTo(late.b, i).post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'resend', [FIELDS.emailId]: String(address!.id) });
      expect(resent.status).toBe(429);
      expect(Number(resent.headers.get('retry-after'))).toBeGreaterThan(CAP.windowMs / 1000 - 60);
      expect(resent.text).toContain(REFUSAL);
      // Resending changes no address: the page says what did not happen.
      expect(resent.text).toContain('<h1>No link sent</h1>');
      expect(resent.text).not.toContain('Address not changed');
    }
    expect(await verifyMails(victim)).toBe(CAP.max);

    // Once the mailbox's window is over (its counter gone, as the purger drops it; an hour later the session would
    // have ended too), the page says "Send link" works now, with no wait, and it does.
    await services().db.deleteFrom('rate_limits').where('key', 'like', 'request:verification-resend:recipient:%').execute();
    const later = await late.b.get(ROUTES.manageAccount);
    expect(later.text).toContain(`No link has been sent to <bdi>${victim}</bdi> yet: use “Send link” below, then open the link while logged in.`);
    expect(later.text).not.toContain('“Send link” works in');
    const sent = await late.b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'resend', [FIELDS.emailId]: String(address!.id) });
    expect(sent.status).toBe(303);
    const after = await late.b.get(ROUTES.manageAccount);
    expect(after.text).toContain(`Open the link we sent to <bdi>${victim}</bdi> while logged in.`);
    expect(after.text).toContain(`aria-label="Resend link: ${victim}"`);
  });

  it('adding a flooded mailbox is refused on the form with 429 and Retry-After; the account’s own allowance is not spent', async () => {
    const victim = `${uniqueName('victim')}@example.org`;
    for (let i = 0; i < CAP.max; i++) expect((await register(browserOn(i), victim)).response.status).toBe(303);
    const b = browserOn(1, networkIp(200));
    const own = `${uniqueName('own')}@example.org`;
    const { userId } = await register(b, own);
    await b.get(ROUTES.manageAccount);
    const add = (email: string) => b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: email });
    for (let i = 0; i < 3; i++) {
      const refused = await add(victim);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(CAP.windowMs / 1000 - 60);
      expect(refused.text).toContain(ADD_REFUSAL);
      expect(refused.text).not.toContain(REFUSAL);
      // On the add form, the address kept in its field.
      expect(refused.text).toContain(`value="${victim}"`);
    }
    expect((await services().emails.list(await userId())).map((address) => address.email)).toEqual([own]);
    // Three refusals later the account can still mail its 3 links of the hour (the cap was checked before counting them).
    for (let i = 0; i < 3; i++) expect((await add(`${uniqueName('more')}@example.org`)).status).toBe(303);
    expect(await verifyMails(victim)).toBe(CAP.max);
  });
  it('two accounts on one network holding the victim’s address cannot keep the owner, on another network, from a link (review of the cap)', async () => {
    const victim = `${uniqueName('victim')}@example.org`;
    // The attacker's network: one registration with the victim's address, two more accounts adding it, and the
    // first resending within its own 3 mails an hour, on both servers.
    const attackerIp = networkIp(150, 20);
    const first = browserOn(0, attackerIp);
    const { userId: firstId } = await register(first, victim);
    for (let i = 1; i < 3; i++) {
      const b = browserOn(i, networkIp(150, 20 + i));
      await register(b, `${uniqueName('own')}@example.org`);
      await b.get(ROUTES.manageAccount);
      // Adding asks for the password again (re-authentication).
      const added = await b.post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'add', [FIELDS.email]: victim, [FIELDS.password]: PASSWORD });
      expect(added.status).toBe(303);
    }
    await first.get(ROUTES.manageAccount);
    const [firstAddress] = await services().emails.list(await firstId());
    const statuses = [];
    for (let round = 0; round < 3; round++) {
      const resent = await movedTo(first, round % 2).post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'resend', [FIELDS.emailId]: String(firstAddress!.id) });
      statuses.push(resent.status);
    }
    const attackerMails = await verifyMails(victim);

    // The owner, elsewhere: registration mails a link, and "Resend link" works.
    const owner = browserOn(1, networkIp(151));
    const { response, userId } = await register(owner, victim);
    expect(response.status).toBe(303);
    const page = await owner.get(ROUTES.manageAccount);
    expect(page.text).toContain(`Welcome! We sent a link to ${victim}`);
    const [address] = await services().emails.list(await userId());
    expect(address!.verifySentAt).not.toBeNull();
    const resent = await movedTo(owner, 0).post(ROUTES.manageEmail, { [FIELDS.emailAction]: 'resend', [FIELDS.emailId]: String(address!.id) });
    expect(resent.status).toBe(303);
    // The attacker's network got its allowance and no more; its later resends were refused with 429.
    expect(attackerMails).toBe(CAP.perNetworkMax);
    expect(statuses.at(-1)).toBe(429);
    expect(await verifyMails(victim)).toBe(CAP.perNetworkMax + 2);
  });
});
