import type { Request } from 'express';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { SESSION_ABSOLUTE_TIMEOUT_MS, SESSION_IDLE_TIMEOUT_MS } from '../services/sessions.js';
import type { LoginNotice } from '../views/login-page.js';
import { queryValue } from './http.js';

/**
 * Shown when this browser's session is gone and the server cannot say why: the row is deleted, and with it
 * whose it was. So it names every way a session ends — the timeouts (ASVS V3.3.2), "End session" and "Log out
 * of all sessions" (V3.3.4), a password change or reset (V3.3.3), an administrator's `reset-2fa`, the account's
 * deletion — and is the same sentence whichever it was: the holder of an old cookie learns nothing of what
 * the owner or an administrator did. It said "inactive for too long, or you logged out of it from another
 * browser", false after a reset (QA).
 */
const ENDED_ELSEWHERE =
  `Your session has ended. A session ends after ${SESSION_IDLE_TIMEOUT_MS / 60_000} minutes without use or ` +
  `${SESSION_ABSOLUTE_TIMEOUT_MS / 3_600_000} hours in all, when it is ended from another browser, when the password ` +
  'is changed or reset, when an administrator resets two-factor authentication, or when the account is deleted. Log in again to continue.';

/**
 * Why the login page is shown after a session ended. It travels in the query (`?ended=…`) because
 * a flash message would live in the very session that just ended. Only these fixed sentences can
 * be shown: the query picks one, it never supplies text.
 */
export const SESSION_ENDED_NOTICES = {
  logout: 'You have logged out.',
  everywhere: 'You have logged out of every session, on this browser and on every other one.',
  elsewhere: ENDED_ELSEWHERE,
  changed: 'Your password or two-factor settings changed while you were logging in, so you were not logged in. Log in again with your current details.',
  deleted: 'Your account was deleted, with everything it held. Its username cannot be registered again.',
} as const;

export type SessionEnded = keyof typeof SESSION_ENDED_NOTICES;

/**
 * The endings the person chose read as done ("success"); a session that ended without them, or a login the
 * account changed under, is a warning — shown in green it read as "all is well" after a forced logout (QA).
 */
const WARNING_ENDINGS: ReadonlySet<SessionEnded> = new Set(['elsewhere', 'changed']);

function noticeFor(ended: SessionEnded): LoginNotice {
  return { text: SESSION_ENDED_NOTICES[ended], kind: WARNING_ENDINGS.has(ended) ? 'warning' : 'success' };
}

const ENDED_PARAM = 'ended';

/** The login page URL that says why the session ended (and keeps where to go afterwards). */
export function loginUrlAfter(ended: SessionEnded, next: string | null = null): string {
  const query = new URLSearchParams({ [ENDED_PARAM]: ended });
  if (next) query.set(FIELDS.next, next);
  return `${ROUTES.login}?${query.toString()}`;
}

/** The notice the login page should show: the one the query names, or "ended elsewhere" when the session cookie's session is gone (see {@link ENDED_ELSEWHERE}). */
export function sessionEndedNotice(req: Request, sessionEnded = false): LoginNotice | null {
  const ended = queryValue(req, ENDED_PARAM);
  if (ended !== null && Object.hasOwn(SESSION_ENDED_NOTICES, ended)) return noticeFor(ended as SessionEnded);
  return sessionEnded ? noticeFor('elsewhere') : null;
}
