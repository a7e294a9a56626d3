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
    const cell = html.match(/<td data-label="Event"[^>]*>([^<]*)<\/td>/);
    expect(cell?.[1]).toContain(`“${LONG_ADDRESS}” no longer verified`);
    expect(cell?.[0]).toMatch(/^<td data-label="Event" class="break-anywhere">/);
    expect(css).toMatch(/\.break-anywhere\s*\{\s*overflow-wrap:\s*anywhere;?\s*\}/);
  });
});
