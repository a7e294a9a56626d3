import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import type { TestBrowser } from '../testing/browser.js';
import { FIREFOX_128_WINDOWS as FIREFOX, firefoxBrowserFrom, PASSWORD, registerIn, useTestServer } from '../testing/http-harness.js';
import { DIALECTS } from '../testing/service-harness.js';
import { END_FIELDS, END_ROUTES } from '../views/session-list.js';

// Sessions and remembered devices are told apart by their login address on the account page and on the
// "End this session?" / "Forget this device?" pages, but the message after the action named the browser
// alone: with two "Firefox 128 on Windows" rows, "The session of Firefox 128 on Windows was ended." did not
// say which one. The message names it as the row did. Behind one trusted proxy, so each browser's address
// is its own (X-Forwarded-For).

describe.each(DIALECTS)('the message after ending a session or forgetting a device on %s', (dialect) => {
  let server: RunningServer;
  useTestServer(
    dialect,
    (started) => {
      server = started;
    },
    { trustProxy: 1 },
  );

  const firefoxFrom = (ip: string) => firefoxBrowserFrom(server, ip);
  /** The success notice the account page shows after the action. */
  const successNotice = async (b: TestBrowser) => /<div class="notice notice-success"[^>]*>([^<]*)<\/div>/.exec((await b.get(ROUTES.manageAccount)).text)?.[1];

  it('"The session of … was ended." names the browser and the address its login came from', async () => {
    const laptop = firefoxFrom('203.0.113.7');
    const user = (await server.services.accounts.findByUsername(await registerIn(laptop)))!;
    for (const ip of ['2001:db8::42', '198.51.100.20']) {
      const other = firefoxFrom(ip);
      await other.get(ROUTES.login);
      expect((await other.post(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: PASSWORD })).location).toBe(ROUTES.manageAccount);
    }
    const target = (await server.services.sessions.listForUser(user.id)).find((row) => row.login_ip === '2001:db8::42')!;
    // Registered a moment ago: within the 5-minute window, so no password is asked. From the account page.
    await laptop.get(ROUTES.manageAccount);
    const ended = await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: target.id });
    expect(ended.location).toBe(ROUTES.manageAccount);
    expect(await successNotice(laptop)).toBe('The session of Firefox 128 on Windows from 2001:db8::42 was ended.');

    // A session whose login event is gone is named as its row names it.
    const last = (await server.services.sessions.listForUser(user.id)).find((row) => row.login_ip === '198.51.100.20')!;
    await server.services.db.deleteFrom('events').where('id', '=', last.event_id!).execute();
    await laptop.post(END_ROUTES.endSession, { [END_FIELDS.session]: last.id });
    expect(await successNotice(laptop)).toBe('The session of Firefox 128 on Windows (address not recorded) was ended.');
  });

  it('"… is no longer remembered" names the browser and the address of the login that remembered it', async () => {
    const laptop = firefoxFrom('203.0.113.7');
    const user = (await server.services.accounts.findByUsername(await registerIn(laptop)))!;
    await server.services.rememberedDevices.issue(user, { ip: '2001:db8::42', userAgent: FIREFOX });
    await server.services.rememberedDevices.issue(user, { ip: '198.51.100.20', userAgent: FIREFOX });
    const target = (await server.services.rememberedDevices.list(user)).find((device) => device.address === '198.51.100.20')!;
    await laptop.get(ROUTES.manageAccount);
    const forgotten = await laptop.post(END_ROUTES.forgetDevice, { [END_FIELDS.device]: target.id });
    expect(forgotten.location).toBe(ROUTES.manageAccount);
    expect(await successNotice(laptop)).toBe(
      'Firefox 128 on Windows from 198.51.100.20 is no longer remembered: it will ask for a second factor at its next login.',
    );
    expect((await server.services.rememberedDevices.list(user)).map((device) => device.address)).toEqual(['2001:db8::42']);
  });
});
