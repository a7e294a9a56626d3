/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ROUTES } from '@latchkey/shared';
import { HISTORY_PAGE_SIZE, type SecurityEvent } from '../services/events.js';
import { type EventSentence, eventSentence } from './event-labels.js';
import { describeUserAgent } from './describe-user-agent.js';
import { Layout, formatTime, type PageContext } from './layout.js';

/** The paged security history (page 1 is also on the account page). */
export const HISTORY_ROUTE = ROUTES.securityHistory;

/** Where event `eventId` is in the history, given how many events are newer: its page, scrolled to its row. */
export function historyHref(eventId: number, newer: number): string {
  const page = Math.floor(newer / HISTORY_PAGE_SIZE) + 1;
  return `${HISTORY_ROUTE}?page=${page}#event-${eventId}`;
}

/** Events newest first; each row has `id="event-N"` so sessions and devices can link to their place. */
export function SecurityHistoryTable({ events, caption }: { events: SecurityEvent[]; caption: string }) {
  if (events.length === 0) return <p>Nothing yet.</p>;
  return (
    <table class="history stacked-table">
      <caption class="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Time</th>
          <th scope="col">From</th>
        </tr>
      </thead>
      <tbody>
        {events.map((event) => (
          <tr key={event.id} id={`event-${event.id}`}>
            {/* A label can quote an address or key label with no place to break ("E-mail address “…” no longer
                verified"): with `break-anywhere` it wraps inside the column; as a whole word it set the column's
                least width, and the table ran out of its card and widened the page wherever it was not stacked. */}
            <td data-label="Event" class="break-anywhere">
              <Sentence pieces={eventSentence(event)} />
            </td>
            <td data-label="Time">{formatTime(event.createdAt)}</td>
            <td data-label="From">
              <span class="break-anywhere">{event.ip ?? '—'}</span>
              {event.userAgent ? <span class="muted small"> · {describeUserAgent(event.userAgent)}</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A history sentence with each chosen value (a key label, an address) in a `<bdi>`. Without it the sentence's
 * direction decides the weak characters at a right-to-left label's ends: "Security key “مفتاح!” used" drew the "!"
 * after the label, beside the closing quote, and "2 مفتاح" its digit before it (Chromium), the label misread. The
 * element isolates without control characters, so the cell's text is the plain sentence (copied, searched, read out).
 */
function Sentence({ pieces }: { pieces: EventSentence }) {
  return <>{pieces.map((piece) => (typeof piece === 'string' ? piece : <bdi>{piece.chosen}</bdi>))}</>;
}

/** Total pages for `total` events (at least 1, so an empty history still has its page 1). */
export function historyPageCount(total: number): number {
  return Math.max(1, Math.ceil(total / HISTORY_PAGE_SIZE));
}

/**
 * Numbered page links in a labelled `nav`, the current page marked `aria-current="page"` (WAI-ARIA
 * practice for pagination); long histories show the first, the last and the pages around the current one.
 */
export function HistoryPagination({ page, pages }: { page: number; pages: number }) {
  if (pages <= 1) return null;
  const shown = [...new Set([1, page - 1, page, page + 1, pages])].filter((n) => n >= 1 && n <= pages).sort((a, b) => a - b);
  const href = (n: number) => `${HISTORY_ROUTE}?page=${n}`;
  const items = [];
  let previous = 0;
  for (const n of shown) {
    if (n - previous > 1) {
      items.push(
        <li key={`gap-${n}`} aria-hidden="true">
          …
        </li>,
      );
    }
    items.push(
      <li key={n}>
        <a href={href(n)} aria-current={n === page ? 'page' : undefined}>
          <span class="visually-hidden">Page </span>
          {n}
        </a>
      </li>,
    );
    previous = n;
  }
  return (
    <nav class="pagination" aria-label="Security history pages">
      <ul>
        {page > 1 ? (
          <li>
            <a href={href(page - 1)} rel="prev">
              Newer<span class="visually-hidden"> events</span>
            </a>
          </li>
        ) : null}
        {items}
        {page < pages ? (
          <li>
            <a href={href(page + 1)} rel="next">
              Older<span class="visually-hidden"> events</span>
            </a>
          </li>
        ) : null}
      </ul>
    </nav>
  );
}

export interface HistoryPageProps {
  page: PageContext;
  events: SecurityEvent[];
  pageNumber: number;
  pages: number;
  total: number;
}

/** One page of the security history, older events further on. */
export function HistoryPage({ page, events, pageNumber, pages, total }: HistoryPageProps) {
  const first = (pageNumber - 1) * HISTORY_PAGE_SIZE + 1;
  return (
    <Layout page={page} title={`Security history, page ${pageNumber} of ${pages}`}>
      <h1>Security history</h1>
      <p class="muted">
        Page {pageNumber} of {pages}: events {events.length === 0 ? 0 : first}–{first + events.length - 1} of {total}, newest first.
      </p>
      <section class="card" aria-label={`Events, page ${pageNumber}`}>
        <SecurityHistoryTable events={events} caption={`Security events ${first} to ${first + events.length - 1}, newest first`} />
      </section>
      <HistoryPagination page={pageNumber} pages={pages} />
      <p>
        <a href={ROUTES.manageAccount}>Back to account security</a>
      </p>
    </Layout>
  );
}
