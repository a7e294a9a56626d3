import { describe, expect, it } from 'vitest';
import { EVENT_TAGS, type SecurityEvent } from '../services/events.js';
import { describeEvent, eventSentence } from './event-labels.js';

const event = (tag: string, details: Record<string, unknown> = {}): SecurityEvent => ({
  id: 1,
  userId: 'u',
  tag,
  ip: null,
  userAgent: null,
  details,
  createdAt: 0,
});

describe('security history labels', () => {
  // The history once showed raw tags ("account:email:verified") for every e-mail event (QA finding 5).
  // `record` only takes tags from EVENT_TAGS (its `tag: EventTag`), so this covers every tag the server can record.
  it.each(Object.entries(EVENT_TAGS))('%s (%s) has a sentence for people, with or without details', (_name, tag) => {
    for (const details of [{}, { email: 'a@example.org', from: 'a@example.org', to: 'b@example.org', method: 'totp', label: 'k' }]) {
      const label = describeEvent(event(tag, details));
      expect(label).not.toBe(tag);
      expect(label).not.toMatch(/^[a-z_]+(:[a-z_]+)+$/);
      expect(label).toMatch(/^[A-Z]/);
    }
  });

  it('e-mail events name the address', () => {
    expect(describeEvent(event(EVENT_TAGS.emailAdded, { email: 'a@example.org' }))).toBe('E-mail address “a@example.org” added');
    expect(describeEvent(event(EVENT_TAGS.emailVerified, { email: 'a@example.org' }))).toBe('E-mail address “a@example.org” verified');
    expect(describeEvent(event(EVENT_TAGS.emailVerified, { email: 'a@example.org', by: 'admin' }))).toBe(
      'E-mail address “a@example.org” verified by an administrator',
    );
    expect(describeEvent(event(EVENT_TAGS.emailRemoved, { email: 'a@example.org' }))).toBe('E-mail address “a@example.org” removed');
    expect(describeEvent(event(EVENT_TAGS.primaryEmailChanged, { from: 'a@example.org', to: 'b@example.org' }))).toBe(
      'Primary e-mail address changed to “b@example.org”',
    );
  });

  it('a reset request says whether a link was sent', () => {
    expect(describeEvent(event(EVENT_TAGS.passwordResetRequested))).toBe('Password reset link requested');
    expect(describeEvent(event(EVENT_TAGS.passwordResetRequested, { link: false }))).toBe(
      'Password reset asked for: no link sent, the address is not verified',
    );
  });

  it('a verification migration 010 took away says why, naming the address but never the account that kept it', () => {
    expect(describeEvent(event(EVENT_TAGS.emailVerificationWithdrawn, { email: 'a@example.org', by: 'migration' }))).toBe(
      'E-mail address “a@example.org” no longer verified: another account had verified it too (an address can belong to one account only)',
    );
    expect(describeEvent(event(EVENT_TAGS.emailVerificationWithdrawn))).toBe(
      'E-mail address no longer verified: another account had verified it too (an address can belong to one account only)',
    );
  });

  it('a login stopped by a change says so, with its method, and never reads as logged in', () => {
    expect(describeEvent(event(EVENT_TAGS.loginStopped, { method: 'recovery_code' }))).toBe(
      'Login stopped (recovery code): the password or two-factor settings changed during it',
    );
    expect(describeEvent(event(EVENT_TAGS.loginStopped))).toBe('Login stopped: the password or two-factor settings changed during it');
  });

  it('a security-key answer refused before any key was checked is a login not completed, not a failed second factor or a wrong password', () => {
    // The same refusal covers a challenge never issued for this login (services/webauthn.ts takeChallenge): a forged
    // answer from someone holding the password must not read as the owner's own late one.
    expect(describeEvent(event(EVENT_TAGS.loginFailure, { method: 'webauthn', reason: 'challenge-invalid' }))).toBe(
      'Login not completed: a security-key answer came for a request that had expired, was already used or was never made (the key was not checked)',
    );
    expect(describeEvent(event(EVENT_TAGS.loginFailure, { method: 'webauthn', reason: 'malformed-response' }))).toBe(
      'Login not completed: the browser sent an unreadable security-key answer (the key was not checked)',
    );
    expect(describeEvent(event(EVENT_TAGS.loginFailure, { method: 'webauthn', reason: 'concurrent-use', label: 'Desk key' }))).toBe(
      'Login not completed: security key “Desk key” answered two requests at once, and the other answer was used',
    );
    expect(describeEvent(event(EVENT_TAGS.loginFailure, { reason: 'password' }))).toBe('Failed login: wrong password');
    expect(describeEvent(event(EVENT_TAGS.loginFailure))).toBe('Failed login: wrong password');
  });

  it('removing the last second factor says that two-factor authentication went off with it', () => {
    expect(describeEvent(event(EVENT_TAGS.methodRemoved, { method: 'totp', twoFactorOff: true }))).toBe(
      'Two-factor method removed: authentication app: two-factor authentication is now off and the recovery codes were deleted',
    );
    expect(describeEvent(event(EVENT_TAGS.methodRemoved, { method: 'webauthn', label: 'Desk key' }))).toBe('Security key “Desk key” removed');
  });

  it('marks every value someone chose, and only those, for the history table to isolate', () => {
    // The table shows each marked value in a <bdi> (security-history.tsx); a value left unmarked is drawn in the
    // sentence's direction. Chosen: key labels (now and before a rename), addresses, a deleted account's name.
    const chosen = { label: 'مفتاح!', from: 'מפתח 2', email: 'a@example.org', to: 'b@example.org', username: 'alice' };
    const details = { ...chosen, method: 'webauthn', reason: 'concurrent-use', userAgent: 'curl/8.5.0', count: 2 };
    const seen = new Set<string>();
    for (const tag of Object.values(EVENT_TAGS)) {
      const pieces = eventSentence(event(tag, details));
      for (const piece of pieces) if (typeof piece !== 'string') seen.add(piece.chosen);
      // A chosen value never hides inside the sentence's own words.
      for (const piece of pieces) if (typeof piece === 'string') for (const value of Object.values(chosen)) expect(piece, tag).not.toContain(value);
      expect(pieces.map((piece) => (typeof piece === 'string' ? piece : piece.chosen)).join(''), tag).toBe(describeEvent(event(tag, details)));
    }
    expect([...seen].sort()).toEqual(Object.values(chosen).sort());
  });
});
