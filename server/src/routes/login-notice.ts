import type { Request } from 'express';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { queryValue } from './http.js';

/**
 * Why the login page is shown after a session ended. It travels in the query (`?ended=…`) because
 * a flash message would live in the very session that just ended. Only these fixed sentences can
 * be shown: the query picks one, it never supplies text.
 */
export const SESSION_ENDED_NOTICES = {
  logout: 'You have logged out.',
  everywhere: 'You have logged out of every session, on this browser and on every other one.',
  elsewhere: 'Your session has ended: it was inactive for too long, or you logged out of it from another browser. Log in again to continue.',
  changed: 'Your password or two-factor settings changed while you were logging in, so you were not logged in. Log in again with your current details.',
  deleted: 'Your account was deleted, with everything it held. Its username cannot be registered again.',
} as const;

export type SessionEnded = keyof typeof SESSION_ENDED_NOTICES;

const ENDED_PARAM = 'ended';

/** The login page URL that says why the session ended (and keeps where to go afterwards). */
export function loginUrlAfter(ended: SessionEnded, next: string | null = null): string {
  const query = new URLSearchParams({ [ENDED_PARAM]: ended });
  if (next) query.set(FIELDS.next, next);
  return `${ROUTES.login}?${query.toString()}`;
}

/** The notice the login page should show: the one the query names, or "ended elsewhere" when the session cookie's session is gone. */
export function sessionEndedNotice(req: Request, sessionEnded = false): string | null {
  const ended = queryValue(req, ENDED_PARAM);
  if (ended !== null && Object.hasOwn(SESSION_ENDED_NOTICES, ended)) return SESSION_ENDED_NOTICES[ended as SessionEnded];
  return sessionEnded ? SESSION_ENDED_NOTICES.elsewhere : null;
}
