/**
 * Turns whatever a WebAuthn ceremony threw into one sentence a person can act on — and that is true in
 * every case the browser's answer covers.
 *
 * Browsers report all of these as one `NotAllowedError` (the spec hides which, so a page cannot probe for
 * keys or learn why a person stopped: WebAuthn Level 2 §14.5, privacy considerations for the client):
 * the person pressed Cancel; the key's user verification failed (a wrong PIN, a fingerprint not
 * recognised); at login, the key holds no credential for this account; the page lost focus; and the
 * timeout ran out. Only the last can be told apart, and only by time: a rejection that arrives when the
 * timeout the server asked for has (nearly) passed. Everything earlier is said as the list it is.
 */
import { WebAuthnError } from '@simplewebauthn/browser';

export type Ceremony = 'registration' | 'authentication';

export interface CeremonyErrorContext {
  /** Which ceremony failed: the same browser error means different things in each. */
  ceremony: Ceremony;
  /** `performance.now()` when the browser prompt was opened. */
  startedAt: number;
  /** `timeout` from the server's options, in milliseconds (undefined: the browser's default). */
  timeoutMs: number | undefined;
  /** `performance.now()` when the error arrived; defaults to now (a parameter so tests can pin it). */
  endedAt?: number;
  /** `window.isSecureContext`; defaults to the page's (a parameter so tests can pin it). */
  secureContext?: boolean;
}

/**
 * From this share of the timeout on, a `NotAllowedError` is said as "time ran out": browsers start their timer
 * a little after the page does, and none is known to end early by more than a few percent.
 */
const TIMEOUT_SHARE = 0.95;

export const CEREMONY_MESSAGES = {
  /** A NotAllowedError at login before the timeout: any of the cases above, the browser does not say which. */
  notConfirmedAtLogin:
    'The security key did not confirm it was you, the request was cancelled, or the key is not one you added to this account (your browser does not say which). Try again, or use another method.',
  /** The same when adding a key: no "not registered" there (no credential is looked for). */
  notConfirmedWhenAdding:
    'The security key did not confirm it was you, or the request was cancelled (your browser does not say which). Press “Add security key” to try again.',
  /** A NotAllowedError when the timeout has passed: mostly no touch; true too of a cancel or failed PIN in the last seconds. */
  timedOut: 'The security key did not confirm it was you in time. Press the button again and touch your key when it blinks.',
  /** AbortError: the request was stopped by the page or the browser (navigation, a newer request). */
  interrupted: 'The security-key request was interrupted before the key answered. Press the button to try again.',
  notAllowedHere: 'Security keys are not allowed on this address. Open the site at its configured address (https, or http://localhost) and try again.',
  alreadyRegistered: 'This security key is already registered to your account.',
  unsupported: 'This browser cannot use security keys. Use another browser, or another method.',
  noSupportedAlgorithm: 'This security key does not support any of the signature algorithms the server accepts. Use another key.',
  keyFailed: 'The security key or the browser reported an error. Try again (reconnect a USB key first), or use another method.',
} as const;

export function describeCeremonyError(error: unknown, context: CeremonyErrorContext): string {
  // @simplewebauthn wraps the browser's DOMException in a WebAuthnError that keeps its name (and `cause`).
  const name = error instanceof Error ? error.name : '';
  const code = error instanceof WebAuthnError ? error.code : undefined;
  const secureContext = context.secureContext ?? globalThis.isSecureContext;

  if (code === 'ERROR_INVALID_DOMAIN' || code === 'ERROR_INVALID_RP_ID' || name === 'SecurityError') {
    return CEREMONY_MESSAGES.notAllowedHere;
  }
  if (context.ceremony === 'registration' && (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' || name === 'InvalidStateError')) {
    // create() only: the key holds a credential in excludeCredentials, which lists this account's keys alone.
    return CEREMONY_MESSAGES.alreadyRegistered;
  }
  if (code === 'ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG') {
    return CEREMONY_MESSAGES.noSupportedAlgorithm;
  }
  if (code === 'ERROR_CEREMONY_ABORTED' || name === 'AbortError') {
    return CEREMONY_MESSAGES.interrupted;
  }
  if (name === 'NotAllowedError') {
    const elapsed = (context.endedAt ?? performance.now()) - context.startedAt;
    const timeout = context.timeoutMs;
    if (timeout !== undefined && timeout > 0 && elapsed >= timeout * TIMEOUT_SHARE) return CEREMONY_MESSAGES.timedOut;
    return context.ceremony === 'authentication' ? CEREMONY_MESSAGES.notConfirmedAtLogin : CEREMONY_MESSAGES.notConfirmedWhenAdding;
  }
  if (error instanceof Error && /not supported in this browser/i.test(error.message)) {
    // Browsers hide the WebAuthn API outside a secure context (plain http on a host other than localhost):
    // that is the address, not the browser.
    return secureContext === false ? CEREMONY_MESSAGES.notAllowedHere : CEREMONY_MESSAGES.unsupported;
  }
  return CEREMONY_MESSAGES.keyFailed;
}
