import { readFileSync } from 'node:fs';
import { render } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { EVENT_TAGS, type SecurityEvent } from '../services/events.js';
import { SecurityHistoryTable } from './security-history.js';

const css = readFileSync(new URL('../../static/latchkey.css', import.meta.url), 'utf8');

/** The longest address the server takes, with no place to break a line (as in the journeys' longNames()). */
const LONG_ADDRESS = `${'a'.repeat(64)}@averylongsubdomainlabelwithoutbreaks.example.org`;

describe('security history table', () => {
  // Layout is measured by the accessibility journey (no horizontal scrolling at 320 px and at 481 px, where
  // tables are not stacked); this keeps the cause in place: a label quoting an address or key label as one
  // unbreakable word set the Event column's least width, and the table outgrew its card and the page.
  it('lets an event label wrap anywhere, so a quoted address never widens the table', () => {
    const withdrawn: SecurityEvent = {
      id: 7,
      userId: 'u',
      tag: EVENT_TAGS.emailVerificationWithdrawn,
      ip: null,
      userAgent: null,
      details: { email: LONG_ADDRESS, by: 'migration' },
      createdAt: Date.UTC(2026, 11, 1, 3),
    };
    const html = render(SecurityHistoryTable({ caption: 'c', events: [withdrawn] }));
    const cell = html.match(/<td data-label="Event"[^>]*>(.*?)<\/td>/);
    expect(cell?.[1]).toContain(`“<bdi>${LONG_ADDRESS}</bdi>” no longer verified`);
    expect(cell?.[0]).toMatch(/^<td data-label="Event" class="break-anywhere">/);
    expect(css).toMatch(/\.break-anywhere\s*\{\s*overflow-wrap:\s*anywhere;?\s*\}/);
  });

  it('shows each chosen value in a sentence (a key label, an address) as a bidi isolate of its own, and nothing else', () => {
    // Without it the sentence's direction drew a right-to-left label's own end beside the sentence's quotes:
    // "Security key “مفتاح!” used" put the "!" after the label, "2 مفتاح" its digit before it (Chromium).
    const event = (id: number, tag: string, details: Record<string, unknown>): SecurityEvent => ({
      id,
      userId: 'u',
      tag,
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      details,
      createdAt: Date.UTC(2026, 11, 1, 3),
    });
    const html = render(
      SecurityHistoryTable({
        caption: 'c',
        events: [
          event(1, EVENT_TAGS.webauthnUsed, { method: 'webauthn', label: 'مفتاح!' }),
          event(2, EVENT_TAGS.webauthnRenamed, { from: 'מפתח 2', label: 'مفتاح' }),
          event(3, EVENT_TAGS.methodRemoved, { method: 'webauthn', label: '2 مفتاح', twoFactorOff: true }),
          event(4, EVENT_TAGS.emailAdded, { email: 'a@example.org' }),
          event(5, EVENT_TAGS.sessionEnded, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' }),
        ],
      }),
    );
    const cells = [...html.matchAll(/<td data-label="Event"[^>]*>(.*?)<\/td>/g)].map((match) => match[1]);
    expect(cells).toEqual([
      'Security key “<bdi>مفتاح!</bdi>” used',
      'Security key “<bdi>מפתח 2</bdi>” renamed to “<bdi>مفتاح</bdi>”',
      'Security key “<bdi>2 مفتاح</bdi>” removed: two-factor authentication is now off and the recovery codes were deleted',
      'E-mail address “<bdi>a@example.org</bdi>” added',
      // The browser is named from fixed words, never the header's own text: nothing of the visitor's to isolate.
      'Session of Firefox 128 on Linux ended',
    ]);
    // The isolate is markup, not control characters: the cell's text is the plain sentence.
    expect(html).not.toMatch(/[\u2066-\u2069]/);
  });
});
