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
}

/**
 * Every live session, each with its browser (parsed, never the raw header), when it started and was
 * last used, its place in the security history and an "End session" button — except this browser's
 * own session, which Log out ends. That one comes first and is "active now": its stored last use is
 * written at most once a minute (services/sessions.ts), so sorted by it the session in use lagged behind
 * others and sat anywhere in a long list, showing a time up to a minute old (QA).
 */
export function SessionList({ page, sessions }: { page: PageContext; sessions: SessionSummary[] }) {
  const ordered = [...sessions.filter((session) => session.current), ...sessions.filter((session) => !session.current)];
  return (
    <ul class="item-list" aria-label="Your sessions">
      {ordered.map((session) => {
        const browser = describeUserAgent(session.userAgent);
        return (
          <li key={session.id} class="item">
            <p class="item-title">
              <strong>{browser}</strong>
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
                      : the login of {browser} at {formatTime(session.createdAt)}
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
                    of {browser} started {formatTime(session.createdAt)}
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
