import { render } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../services/events.js';
import type { PageContext } from './layout.js';
import { RememberedDeviceList, type RememberedDeviceSummary } from './remembered-device-list.js';
import { SecurityHistoryTable } from './security-history.js';
import { SessionList } from './session-list.js';

const page: PageContext = { csrfToken: 'csrf', username: 'alice', flash: null };
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const start = Date.UTC(2026, 10, 30, 9, 0);
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const device = (id: string, address: string | null, current = false, historyHref: string | null = '/manage/account/history/?page=1#event-7') =>
  ({
    id,
    userAgent: FIREFOX,
    createdAt: start,
    lastUsedAt: start + 5 * MINUTE,
    expiresAt: start + 30 * DAY,
    eventId: 7,
    address,
    current,
    historyHref,
  }) satisfies RememberedDeviceSummary;
/** The text of some markup, each tag a word break (the title's parts are flex items, each its own box). */
const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
const itemsOf = (html: string) => html.split('<li').slice(1);

// Two remembered "Firefox 128 on Windows" devices could not be told apart, and a User-Agent is the
// client's to choose: each is named with the address of the login that remembered it, as sessions are.
describe('the remembered device list', () => {
  it('tells two devices of the same browser apart by the address that remembered each, written as the history and the session list write it', () => {
    const ipv6 = '2001:db8:85a3:8d3:1319:8a2e:370:7348';
    const items = itemsOf(render(RememberedDeviceList({ page, devices: [device('a', '203.0.113.7'), device('b', ipv6)] })));
    expect(items).toHaveLength(2);
    expect(textOf(items[0]!)).toContain('Firefox 128 on Windows from 203.0.113.7');
    expect(textOf(items[1]!)).toContain(`Firefox 128 on Windows from ${ipv6}`);
    // The history's own markup for an address (its "From" column), and the session list's beside the browser.
    const history = render(
      SecurityHistoryTable({
        caption: 'c',
        events: [{ id: 1, userId: 'u', tag: 'account:login:success', ip: ipv6, userAgent: null, details: {}, createdAt: start } satisfies SecurityEvent],
      }),
    );
    const historyAddress = history.match(/<span class="break-anywhere">[^<]*<\/span>/)![0];
    expect(items[1]).toContain(historyAddress);
    const sessions = render(
      SessionList({
        page,
        sessions: [{ id: 's', userAgent: FIREFOX, createdAt: start, lastSeenAt: start, current: false, historyHref: null, address: ipv6 }],
      }),
    );
    const sessionTitle = sessions.match(/<p class="item-title">.*?<\/p>/)![0];
    expect(items[1]).toContain(sessionTitle);
    // The hidden part of each Forget button's and history link's accessible name says which device it is.
    expect(textOf(items[0]!)).toContain('Forget Firefox 128 on Windows from 203.0.113.7 remembered 2026-11-30 09:00 UTC');
    expect(textOf(items[1]!)).toContain(`Forget Firefox 128 on Windows from ${ipv6} remembered 2026-11-30 09:00 UTC`);
    expect(textOf(items[0]!)).toContain('In security history : Firefox 128 on Windows from 203.0.113.7 remembered at 2026-11-30 09:00 UTC');
    expect(textOf(items[1]!)).toContain(`In security history : Firefox 128 on Windows from ${ipv6} remembered at 2026-11-30 09:00 UTC`);
  });

  it('says "address not recorded" in words when the event is gone or has no address, never a blank; this browser is still named', () => {
    const items = itemsOf(
      render(RememberedDeviceList({ page, devices: [device('gone', null, false, null), device('empty', ''), device('mine', null, true)] })),
    );
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(item).toContain('<strong>Firefox 128 on Windows</strong><span class="muted">address not recorded</span>');
      expect(item).not.toContain('from <span');
      expect(item).not.toContain('break-anywhere');
    }
    // This browser's device is listed first (see below).
    expect(items[0]).toContain('<span class="badge">This browser</span>');
    expect(textOf(items[0]!)).toContain('Forget this browser, Firefox 128 on Windows (address not recorded), remembered 2026-11-30 09:00 UTC');
    expect(textOf(items[1]!)).toContain('Forget Firefox 128 on Windows (address not recorded) remembered 2026-11-30 09:00 UTC');
    expect(textOf(items[2]!)).toContain('In security history : Firefox 128 on Windows (address not recorded) remembered at');
  });

  // The list comes most recently used first (services/remembered-devices.ts), and this browser's device is
  // used only at its logins: another device used since sorted before it, and "This browser" sat anywhere in
  // the list. It comes first, as in the session list; the others keep the service's order.
  it('puts this browser first, then the others in the order given (most recently used first)', () => {
    const ordered = [device('phone', '203.0.113.7'), device('tablet', '203.0.113.8'), device('mine', '192.0.2.1', true), device('old', '203.0.113.9')];
    const items = itemsOf(render(RememberedDeviceList({ page, devices: ordered })));
    expect(items.map((item) => /name="device" value="([^"]+)"/.exec(item)?.[1])).toEqual(['mine', 'phone', 'tablet', 'old']);
    expect(items[0]).toContain('<span class="badge">This browser</span>');
    // The session list keeps the same rule.
    const sessions = itemsOf(
      render(
        SessionList({
          page,
          sessions: ordered.map((row) => ({
            id: row.id,
            userAgent: FIREFOX,
            createdAt: start,
            lastSeenAt: start,
            current: row.current,
            historyHref: null,
            address: row.address,
          })),
        }),
      ),
    );
    expect(sessions.map((item) => /name="session" value="([^"]+)"/.exec(item)?.[1] ?? 'this browser')).toEqual(['this browser', 'phone', 'tablet', 'old']);
  });

  it('says so when nothing is remembered', () => {
    expect(render(RememberedDeviceList({ page, devices: [] }))).toBe('<p>No device is remembered now.</p>');
  });
});
