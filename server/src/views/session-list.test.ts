import { render } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../services/events.js';
import type { PageContext } from './layout.js';
import { SecurityHistoryTable } from './security-history.js';
import { SessionList, type SessionSummary } from './session-list.js';

const page: PageContext = { csrfToken: 'csrf', username: 'alice', flash: null };
const MINUTE = 60_000;
const start = Date.UTC(2026, 10, 30, 9, 0);
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const session = (id: string, userAgent: string, lastSeenMinutes: number, current = false, address: string | null = '192.0.2.1'): SessionSummary => ({
  id,
  userAgent,
  createdAt: start,
  lastSeenAt: start + lastSeenMinutes * MINUTE,
  current,
  historyHref: null,
  address,
});
/** The text of some markup, each tag a word break (the title's parts are flex items, each its own box). */
const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

describe('the session list', () => {
  it('puts this browser first, "active now", with no End button; the others by last use, each with its own', () => {
    // As listed by last use: this browser's stored last use is written at most once a minute, so a session
    // used since then sorts before it.
    const html = render(
      SessionList({
        page,
        sessions: [
          session('phone', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) Version/17.2 Mobile/15E148 Safari/604.1', 12),
          session('curl', 'curl/8.5.0', 11),
          session('mine', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0', 10, true),
        ],
      }),
    );
    const items = html.split('<li').slice(1);
    expect(items).toHaveLength(3);
    expect(items[0]).toContain('This browser'); // was the last item
    expect(items[0]).toContain('active now');
    expect(items[0]).not.toContain('last active');
    expect(items[0]).not.toContain('name="session"');
    expect(items[1]).toContain('Safari 17 on iPhone');
    expect(items[1]).toContain('last active 2026-11-30 09:12 UTC');
    expect(items[1]).toContain('name="session" value="phone"');
    expect(items[2]).toContain('name="session" value="curl"');
  });

  it('tells two sessions of the same browser apart by the address each logged in from, written as the security history writes it', async () => {
    const ipv6 = '2001:db8:85a3:8d3:1319:8a2e:370:7348';
    const html = render(SessionList({ page, sessions: [session('a', FIREFOX, 5, false, '203.0.113.7'), session('b', FIREFOX, 4, false, ipv6)] }));
    const items = html.split('<li').slice(1);
    expect(items[0]).toContain('Firefox 128 on Windows');
    expect(items[1]).toContain('Firefox 128 on Windows');
    expect(textOf(items[0]!)).toContain('Firefox 128 on Windows from 203.0.113.7');
    // The history's own markup for an address (its "From" column): the same text, wrapping anywhere.
    const history = render(
      SecurityHistoryTable({
        caption: 'c',
        events: [{ id: 1, userId: 'u', tag: 'account:login:success', ip: ipv6, userAgent: null, details: {}, createdAt: start } satisfies SecurityEvent],
      }),
    );
    const historyAddress = history.match(/<span class="break-anywhere">[^<]*<\/span>/)![0];
    expect(historyAddress).toContain(ipv6);
    expect(items[1]).toContain(historyAddress);
    // Each End button's accessible name says which one it ends.
    expect(textOf(items[0]!)).toContain('End session of Firefox 128 on Windows from 203.0.113.7 started 2026-11-30 09:00 UTC');
    expect(textOf(items[1]!)).toContain(`End session of Firefox 128 on Windows from ${ipv6} started 2026-11-30 09:00 UTC`);
  });

  it('says "address not recorded" in words when the login event is gone or has no address, never a blank', async () => {
    const html = render(
      SessionList({
        page,
        sessions: [session('gone', FIREFOX, 5, false, null), session('empty', FIREFOX, 3, false, ''), session('mine', 'curl/8.5.0', 1, true, null)],
      }),
    );
    const items = html.split('<li').slice(1);
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(textOf(item)).toContain('address not recorded');
      expect(item).not.toContain('from <span');
      expect(item).not.toContain('break-anywhere');
    }
    expect(textOf(items[1]!)).toContain('End session of Firefox 128 on Windows (address not recorded) started 2026-11-30 09:00 UTC');
    expect(textOf(items[2]!)).toContain('End session of Firefox 128 on Windows (address not recorded) started 2026-11-30 09:00 UTC');
  });
});
