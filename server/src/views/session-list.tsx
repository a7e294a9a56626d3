/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ROUTES } from '@latchkey/shared';
import { describeUserAgent } from './describe-user-agent.js';
import { CsrfInput, formatTime, type PageContext } from './layout.js';

/** Routes of the per-session and per-device actions (beyond the shared contract). */
export const END_ROUTES = {
  endSession: ROUTES.endSession,
  forgetDevice: ROUTES.forgetDevice,
} as const;

/** Form field names of those actions. */
export const END_FIELDS = {
  session: 'session',
  device: 'device',
  /** Set by the password confirmation page, so a missing password there is an error, not a first visit. */
  confirm: 'confirm',
} as const;

/** A live session as the account page lists it. */
export interface SessionSummary {
  id: string;
  userAgent: string | null;
  createdAt: number;
  lastSeenAt: number;
  /** The session this page was requested with (ended with Log out, not from the list). */
  current: boolean;
  /** Link to the login event that started it in the security history, when known. */
  historyHref: string | null;
  /** The address its login event recorded (services/sessions.ts `login_ip`); null when not recorded. */
  address: string | null;
}

/** Said instead of an address when the login event is gone or recorded none: never a blank. */
export const ADDRESS_NOT_RECORDED = 'address not recorded';

/**
 * A session or remembered device in words, for text-only places (the "End this session?" and "Forget
 * this device?" pages, the buttons' accessible names): "Firefox 128 on Windows from 203.0.113.7", the
 * address of its login event as the security history shows it. Shared by both lists so there is one
 * way of writing it.
 */
export function describeBrowserAndAddress(login: { userAgent: string | null; address: string | null }): string {
  const browser = describeUserAgent(login.userAgent);
  return login.address ? `${browser} from ${login.address}` : `${browser} (${ADDRESS_NOT_RECORDED})`;
}

/**
 * Where a session or remembered device logged in from, beside its browser. The address exactly as the
 * security history's "From" column shows it (the stored text in a `break-anywhere` span, so a long IPv6
 * address wraps at 320 px instead of widening the page — WCAG 1.4.10); no second format, no lookup.
 * Plain words when there is none, so nothing is told by a blank, a colour or an icon alone.
 */
export function LoginAddress({ address }: { address: string | null }) {
  // (An empty string is no address either: never a blank.)
  if (!address) return <span class="muted">{ADDRESS_NOT_RECORDED}</span>;
  return (
    <span>
      from <span class="break-anywhere">{address}</span>
    </span>
  );
}

/**
 * This browser's own row first, then the others in the order given (the services list them most recently
 * used first). The one rule for both lists on the account page: the row that is "you" is found at a glance
 * rather than by reading every badge. A session's stored last use is written at most once a minute
 * (services/sessions.ts) and a remembered device's only at its logins, so by last use alone this browser's
 * row sorted behind others used since and sat anywhere in a long list (QA).
 */
export function thisBrowserFirst<T extends { current: boolean }>(rows: readonly T[]): T[] {
  return [...rows.filter((row) => row.current), ...rows.filter((row) => !row.current)];
}

/**
 * Every live session, each with its browser (parsed, never the raw header) and the address it logged in
 * from (two sessions of one browser type look alike, and a User-Agent is a header the client writes),
 * when it started and was last used, its place in the security history and an "End session" button —
 * except this browser's own session, which Log out ends. That one comes first ({@link thisBrowserFirst}) and
 * is "active now": its stored last use can be up to a minute old.
 */
export function SessionList({ page, sessions }: { page: PageContext; sessions: SessionSummary[] }) {
  const ordered = thisBrowserFirst(sessions);
  return (
    <ul class="item-list" aria-label="Your sessions">
      {ordered.map((session) => {
        const browser = describeUserAgent(session.userAgent);
        const named = describeBrowserAndAddress(session);
        return (
          <li key={session.id} class="item">
            <p class="item-title">
              <strong>{browser}</strong>
              <LoginAddress address={session.address} />
              {session.current ? <span class="badge">This browser</span> : null}
            </p>
            <p class="muted small">
              Logged in {formatTime(session.createdAt)} · {session.current ? 'active now' : `last active ${formatTime(session.lastSeenAt)}`}
              {session.historyHref ? (
                <>
                  {' · '}
                  <a href={session.historyHref}>
                    In security history
                    <span class="visually-hidden">
                      : the login of {named} at {formatTime(session.createdAt)}
                    </span>
                  </a>
                </>
              ) : null}
            </p>
            {session.current ? (
              <p class="hint">This is the session you are using now: use Log out to end it.</p>
            ) : (
              <form method="post" action={END_ROUTES.endSession}>
                <CsrfInput token={page.csrfToken} />
                <input type="hidden" name={END_FIELDS.session} value={session.id} />
                <button type="submit" class="button button-small">
                  End session
                  <span class="visually-hidden">
                    {' '}
                    of {named} started {formatTime(session.createdAt)}
                  </span>
                </button>
              </form>
            )}
          </li>
        );
      })}
    </ul>
  );
}
