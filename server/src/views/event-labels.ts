import { EVENT_TAGS } from '../services/events.js';
import type { SecurityEvent } from '../services/events.js';
import { describeUserAgent } from './describe-user-agent.js';

const METHOD_NAMES: Record<string, string> = {
  password: 'password only',
  totp: 'authentication app',
  recovery_code: 'recovery code',
  webauthn: 'security key',
  remembered_device: 'remembered device',
};

/** A value someone chose (a security key's label, an e-mail address, a username), inside a history sentence. */
export interface ChosenValue {
  chosen: string;
}

/**
 * A history sentence: its own words and the chosen values between them, in order. The history table shows each
 * value in a `<bdi>` (security-history.tsx), so the sentence's direction cannot draw a right-to-left label's own
 * ends on the wrong side of it; {@link describeEvent} joins them into plain text.
 */
export type EventSentence = ReadonlyArray<string | ChosenValue>;

/** One line per event for the security history, written for people: its words and the chosen values in it. */
export function eventSentence(event: SecurityEvent): EventSentence {
  const line = lineOf(event);
  return typeof line === 'string' ? [line] : line;
}

/** The same line as plain text (the data download: the file says what the page says). */
export function describeEvent(event: SecurityEvent): string {
  return eventSentence(event)
    .map((piece) => (typeof piece === 'string' ? piece : piece.chosen))
    .join('');
}

function lineOf(event: SecurityEvent): string | EventSentence {
  const details = event.details;
  const method = typeof details.method === 'string' ? (METHOD_NAMES[details.method] ?? details.method) : null;
  const label = quoted(details.label);
  switch (event.tag) {
    case EVENT_TAGS.accountCreated:
      return 'Account created';
    case EVENT_TAGS.dataExported:
      return 'Account data downloaded';
    case EVENT_TAGS.accountDeleted:
      // Only an administrator sees it (the account is gone with its history): say whose it was.
      return sentence`Account${quoted(details.username)} deleted by its owner`;
    case EVENT_TAGS.adminUserCreated:
      return 'Account created by an administrator';
    case EVENT_TAGS.loginSuccess:
      return method ? `Logged in (${method})` : 'Logged in';
    case EVENT_TAGS.loginStopped:
      // What the login presented was right (the password, and its second factor or remembered device), and no
      // session started: said plainly, never as a login.
      return `Login stopped${method ? ` (${method})` : ''}: the password or two-factor settings changed during it`;
    case EVENT_TAGS.loginFailure:
      // A security-key answer that says nothing against the key (services/webauthn.ts refuse): the password was
      // right, and nothing says someone without the key tried — never "Failed second factor".
      if (details.method === 'webauthn') {
        if (details.reason === 'concurrent-use')
          return sentence`Login not completed: security key${label} answered two requests at once, and the other answer was used`;
        if (details.reason === 'malformed-response') return 'Login not completed: the browser sent an unreadable security-key answer (the key was not checked)';
        return 'Login not completed: a security-key answer came for a request that had expired, was already used or was never made (the key was not checked)';
      }
      return 'Failed login: wrong password';
    case EVENT_TAGS.secondFactorFailure:
      return method ? `Failed second factor (${method})` : 'Failed second factor';
    case EVENT_TAGS.lockout:
      if (details.step === 'password') return 'Login paused for a while from one place after repeated wrong passwords';
      if (details.step === 'reauthenticate') return 'Security changes paused for a while in one session after repeated wrong passwords';
      return 'Second factor paused for a while after repeated failures';
    case EVENT_TAGS.totpGuessBudgetSpent:
      return 'Authentication-app codes refused: too many wrong codes this year (someone may know your password; change it)';
    case EVENT_TAGS.logout:
      // `by: 'login'`: the browser logged in again (to this account or another) while this session was open.
      return details.by === 'login' ? 'Logged out: this browser logged in again' : 'Logged out';
    case EVENT_TAGS.reauthenticateFailure:
      return 'Wrong password when confirming a security change';
    case EVENT_TAGS.methodAdded:
      return method === 'security key' ? sentence`Security key${label} added` : `Two-factor method added: ${method ?? 'unknown'}`;
    case EVENT_TAGS.methodRemoved: {
      const removed = method === 'security key' ? sentence`Security key${label} removed` : `Two-factor method removed: ${method ?? 'unknown'}`;
      // `twoFactorOff`: it was the last second factor, and the recovery codes went with it (older rows lack it).
      return details.twoFactorOff === true ? sentence`${removed}: two-factor authentication is now off and the recovery codes were deleted` : removed;
    }
    case EVENT_TAGS.recoveryCodesGenerated:
      // `voided`: unused codes the new set replaced (older events lack it: then claim nothing).
      return typeof details.voided === 'number' && details.voided > 0 ? 'New recovery codes generated (older codes voided)' : 'Recovery codes generated';
    case EVENT_TAGS.recoveryCodeUsed:
      return 'Recovery code used';
    case EVENT_TAGS.rememberedDevicesForgotten:
      return 'Remembered devices forgotten';
    case EVENT_TAGS.sessionsRevoked:
      return typeof details.count === 'number' ? `Logged out of all sessions (${details.count} ended)` : 'Logged out of all sessions';
    case EVENT_TAGS.sessionEnded:
      return `Session of ${describeUserAgent(stringOr(details.userAgent))} ended`;
    case EVENT_TAGS.deviceRemembered:
      return 'Device remembered for 30 days';
    case EVENT_TAGS.deviceForgotten:
      return `Remembered device forgotten: ${describeUserAgent(stringOr(details.userAgent))}`;
    case EVENT_TAGS.webauthnRenamed:
      return sentence`Security key${quoted(details.from)} renamed to${label}`;
    case EVENT_TAGS.adminTwoFactorReset:
      return 'Two-factor authentication reset by an administrator';
    case EVENT_TAGS.webauthnSignCountRegression:
      return sentence`Security key${label} refused: possible clone (signature counter went back)`;
    case EVENT_TAGS.webauthnRegistrationRefused:
      return sentence`Security key${label} not added: its answer could not be verified for this site`;
    case EVENT_TAGS.webauthnUsed:
      return sentence`Security key${label} used`;
    case EVENT_TAGS.recoveryCodesConfirmed:
      return 'Recovery codes confirmed as saved (one code used up)';
    case EVENT_TAGS.passwordChanged:
      return 'Password changed';
    case EVENT_TAGS.passwordResetRequested:
      return details.link === false ? 'Password reset asked for: no link sent, the address is not verified' : 'Password reset link requested';
    case EVENT_TAGS.passwordReset:
      return 'Password reset by e-mail link';
    case EVENT_TAGS.emailAdded:
      return sentence`E-mail address${quoted(details.email)} added`;
    case EVENT_TAGS.emailVerified:
      return details.by === 'admin'
        ? sentence`E-mail address${quoted(details.email)} verified by an administrator`
        : sentence`E-mail address${quoted(details.email)} verified`;
    case EVENT_TAGS.emailRemoved:
      return sentence`E-mail address${quoted(details.email)} removed`;
    case EVENT_TAGS.emailVerificationWithdrawn:
      // Migration 010 (the same mailbox in two spellings, verified by two accounts): the server's own change, not
      // something someone did to the account; the other account is not named (its owner's personal data).
      return sentence`E-mail address${quoted(details.email)} no longer verified: another account had verified it too (an address can belong to one account only)`;
    case EVENT_TAGS.emailVerificationResent:
      return typeof details.email === 'string'
        ? sentence`Verification link sent again to${quoted(details.email)}`
        : 'Verification link sent again to an address';
    case EVENT_TAGS.primaryEmailChanged:
      return typeof details.to === 'string' ? sentence`Primary e-mail address changed to${quoted(details.to)}` : 'Primary e-mail address changed';
    default:
      // Only a tag this version does not know (a row written by a newer one): event-labels.test.ts checks
      // that every tag in EVENT_TAGS has its sentence above.
      return event.tag;
  }
}

/** ` “value”` for a string detail, the value a {@link ChosenValue}; else nothing (older rows may lack it). */
function quoted(value: unknown): EventSentence {
  return typeof value === 'string' ? [' “', { chosen: value }, '”'] : [];
}

/** A sentence from a template: its literal words, and strings or sentences put in (a sentence's chosen values stay chosen). */
function sentence(words: TemplateStringsArray, ...parts: Array<string | EventSentence>): EventSentence {
  const pieces: Array<string | ChosenValue> = [];
  const add = (piece: string | ChosenValue) => {
    const last = pieces.length - 1;
    if (typeof piece !== 'string') pieces.push(piece);
    else if (piece === '') return;
    else if (typeof pieces[last] === 'string') pieces[last] += piece;
    else pieces.push(piece);
  };
  words.forEach((word, index) => {
    add(word);
    const part = parts[index];
    if (typeof part === 'string') add(part);
    else if (part) for (const piece of part) add(piece);
  });
  return pieces;
}

function stringOr(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
