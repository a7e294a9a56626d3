import { render } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import type { PageContext } from './layout.js';
import { SessionList, type SessionSummary } from './session-list.js';

const page: PageContext = { csrfToken: 'csrf', username: 'alice', flash: null };
const MINUTE = 60_000;
const start = Date.UTC(2026, 10, 30, 9, 0);
const session = (id: string, userAgent: string, lastSeenMinutes: number, current = false): SessionSummary => ({
  id,
  userAgent,
  createdAt: start,
  lastSeenAt: start + lastSeenMinutes * MINUTE,
  current,
  historyHref: null,
});

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
});
