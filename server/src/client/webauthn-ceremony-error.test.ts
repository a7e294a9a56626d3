import { describe, expect, it } from 'vitest';
import { WebAuthnError } from '@simplewebauthn/browser';
import { CEREMONY_MESSAGES, describeCeremonyError } from './webauthn-ceremony-error.js';
import { isSafeRedirect } from './post-json.js';

function domError(name: string, message = 'x'): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

const quick = { ceremony: 'authentication' as const, startedAt: 0, endedAt: 1_500, timeoutMs: 120_000 };

describe('describeCeremonyError', () => {
  it('calls an early NotAllowedError a cancel (or an unregistered key, at login) and a late one a timeout', () => {
    expect(describeCeremonyError(domError('NotAllowedError'), quick)).toBe(CEREMONY_MESSAGES.cancelledOrNotRegistered);
    expect(describeCeremonyError(domError('NotAllowedError'), { ...quick, ceremony: 'registration' })).toBe(CEREMONY_MESSAGES.cancelled);
    expect(describeCeremonyError(domError('NotAllowedError'), { ...quick, endedAt: 120_010 })).toBe(CEREMONY_MESSAGES.timedOut);
    const wrapped = new WebAuthnError({
      message: 'The operation either timed out or was not allowed.',
      code: 'ERROR_PASSTHROUGH_SEE_CAUSE_PROPERTY',
      cause: domError('NotAllowedError'),
      name: 'NotAllowedError',
    });
    expect(describeCeremonyError(wrapped, { ...quick, endedAt: 119_000 })).toBe(CEREMONY_MESSAGES.timedOut);
    expect(describeCeremonyError(wrapped, quick)).toBe(CEREMONY_MESSAGES.cancelledOrNotRegistered);
  });

  it('explains a wrong origin or rpID as "not allowed here"', () => {
    expect(describeCeremonyError(domError('SecurityError'), quick)).toBe(CEREMONY_MESSAGES.notAllowedHere);
    const rpId = new WebAuthnError({ message: 'bad rp', code: 'ERROR_INVALID_RP_ID', cause: domError('SecurityError') });
    expect(describeCeremonyError(rpId, quick)).toBe(CEREMONY_MESSAGES.notAllowedHere);
  });

  it('says a key is already registered when the browser refuses an excluded credential', () => {
    const excluded = new WebAuthnError({
      message: 'The authenticator was previously registered',
      code: 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED',
      cause: domError('InvalidStateError'),
    });
    expect(describeCeremonyError(excluded, { ...quick, ceremony: 'registration' })).toBe(CEREMONY_MESSAGES.alreadyRegistered);
  });

  it('falls back to a generic, actionable sentence for anything else', () => {
    expect(describeCeremonyError(new Error('boom'), quick)).toBe(CEREMONY_MESSAGES.keyFailed);
    expect(describeCeremonyError('not even an error', quick)).toBe(CEREMONY_MESSAGES.keyFailed);
    expect(describeCeremonyError(new Error('WebAuthn is not supported in this browser'), quick)).toBe(CEREMONY_MESSAGES.unsupported);
  });
});

describe('isSafeRedirect', () => {
  it('accepts same-origin paths only', () => {
    expect(isSafeRedirect('/manage/account/')).toBe(true);
    expect(isSafeRedirect('//evil.example/')).toBe(false);
    expect(isSafeRedirect('/\\evil.example/')).toBe(false);
    expect(isSafeRedirect('https://evil.example/')).toBe(false);
    expect(isSafeRedirect(undefined)).toBe(false);
  });
});
