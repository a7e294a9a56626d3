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
  const notAllowed = () =>
    new WebAuthnError({
      message: 'The operation either timed out or was not allowed.',
      code: 'ERROR_PASSTHROUGH_SEE_CAUSE_PROPERTY',
      cause: domError('NotAllowedError'),
      name: 'NotAllowedError',
    });

  it('never calls an early NotAllowedError a cancel: a failed PIN or fingerprint, a cancel and (at login) an unknown key read alike', () => {
    // Measured in Chromium with a virtual key that fails user verification: NotAllowedError after 2 ms, the
    // same error and the same speed as a key with no credential for the account.
    for (const error of [domError('NotAllowedError'), notAllowed()]) {
      const atLogin = describeCeremonyError(error, quick);
      expect(atLogin).toBe(CEREMONY_MESSAGES.notConfirmedAtLogin);
      const adding = describeCeremonyError(error, { ...quick, ceremony: 'registration' });
      expect(adding).toBe(CEREMONY_MESSAGES.notConfirmedWhenAdding);
      // Every case the one error covers is named, and none is claimed: before, "The security key request was cancelled."
      for (const message of [atLogin, adding]) {
        expect(message).toMatch(/did not confirm it was you/);
        expect(message).toMatch(/cancelled/);
        expect(message).toMatch(/does not say which/);
        expect(message).not.toMatch(/^The security key request was cancelled/);
      }
      expect(atLogin).toMatch(/not one you added to this account/);
      expect(adding).not.toMatch(/not one you added/); // no credential is looked up when adding a key
    }
  });

  it('says "in time" only when the rejection came at the timeout the server asked for', () => {
    expect(describeCeremonyError(domError('NotAllowedError'), { ...quick, endedAt: 120_010 })).toBe(CEREMONY_MESSAGES.timedOut);
    expect(describeCeremonyError(notAllowed(), { ...quick, endedAt: 114_000 })).toBe(CEREMONY_MESSAGES.timedOut);
    expect(describeCeremonyError(notAllowed(), { ...quick, endedAt: 113_000 })).toBe(CEREMONY_MESSAGES.notConfirmedAtLogin);
    // No timeout known (the browser's default): never a guess about time.
    expect(describeCeremonyError(notAllowed(), { ...quick, endedAt: 600_000, timeoutMs: undefined })).toBe(CEREMONY_MESSAGES.notConfirmedAtLogin);
  });

  it('explains a wrong origin or rpID as "not allowed here"', () => {
    expect(describeCeremonyError(domError('SecurityError'), quick)).toBe(CEREMONY_MESSAGES.notAllowedHere);
    const rpId = new WebAuthnError({ message: 'bad rp', code: 'ERROR_INVALID_RP_ID', cause: domError('SecurityError') });
    expect(describeCeremonyError(rpId, quick)).toBe(CEREMONY_MESSAGES.notAllowedHere);
  });

  it('says a key is already registered only when adding one (InvalidStateError means that only for create())', () => {
    const excluded = new WebAuthnError({
      message: 'The authenticator was previously registered',
      code: 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED',
      cause: domError('InvalidStateError'),
    });
    expect(describeCeremonyError(excluded, { ...quick, ceremony: 'registration' })).toBe(CEREMONY_MESSAGES.alreadyRegistered);
    expect(describeCeremonyError(domError('InvalidStateError'), { ...quick, ceremony: 'registration' })).toBe(CEREMONY_MESSAGES.alreadyRegistered);
    // At login Chromium raises it for "A request is already pending.": not about registration at all.
    expect(describeCeremonyError(domError('InvalidStateError', 'A request is already pending.'), quick)).toBe(CEREMONY_MESSAGES.keyFailed);
  });

  it('says an interrupted request was interrupted, not cancelled', () => {
    const aborted = new WebAuthnError({ message: 'aborted', code: 'ERROR_CEREMONY_ABORTED', cause: domError('AbortError') });
    expect(describeCeremonyError(aborted, quick)).toBe(CEREMONY_MESSAGES.interrupted);
    expect(describeCeremonyError(domError('AbortError'), { ...quick, ceremony: 'registration', endedAt: 119_000 })).toBe(CEREMONY_MESSAGES.interrupted);
  });

  it('blames the address, not the browser, when WebAuthn is missing outside a secure context', () => {
    const missing = new Error('WebAuthn is not supported in this browser');
    expect(describeCeremonyError(missing, { ...quick, secureContext: true })).toBe(CEREMONY_MESSAGES.unsupported);
    expect(describeCeremonyError(missing, { ...quick, secureContext: false })).toBe(CEREMONY_MESSAGES.notAllowedHere);
  });

  it('falls back to a generic, actionable sentence for anything else', () => {
    expect(describeCeremonyError(new Error('boom'), quick)).toBe(CEREMONY_MESSAGES.keyFailed);
    expect(describeCeremonyError('not even an error', quick)).toBe(CEREMONY_MESSAGES.keyFailed);
    const unknown = new WebAuthnError({ message: 'x', code: 'ERROR_AUTHENTICATOR_GENERAL_ERROR', cause: domError('UnknownError') });
    expect(describeCeremonyError(unknown, quick)).toBe(CEREMONY_MESSAGES.keyFailed);
    const alg = new WebAuthnError({ message: 'x', code: 'ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG', cause: domError('NotSupportedError') });
    expect(describeCeremonyError(alg, { ...quick, ceremony: 'registration' })).toBe(CEREMONY_MESSAGES.noSupportedAlgorithm);
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
