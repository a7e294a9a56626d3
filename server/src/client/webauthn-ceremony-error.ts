/**
 * Turns whatever a WebAuthn ceremony threw into one sentence a person can act on.
 *
 * Browsers report both "the person pressed Cancel" and "nobody touched the key in time" as
 * `NotAllowedError` (the spec deliberately hides which, so pages cannot probe for keys), so the
 * two are told apart by how long the ceremony ran against the timeout the server asked for.
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
}

/** Below this share of the timeout an aborted prompt is taken as a cancel, not a timeout. */
const TIMEOUT_SHARE = 0.95;

export const CEREMONY_MESSAGES = {
  cancelled: 'The security key request was cancelled. Press the button to try again.',
  // Browsers report "no registered key answered" exactly like a cancel (so pages cannot probe for keys).
  cancelledOrNotRegistered:
    'The security key request was cancelled, or the key you used is not registered to this account. Press the button to try again with a key you added.',
  timedOut: 'The security key was not used in time. Press the button and touch your key when it blinks.',
  notAllowedHere: 'Security keys are not allowed on this address. Open the site at its configured address (https, or http://localhost) and try again.',
  alreadyRegistered: 'This security key is already registered to your account.',
  notRegistered: 'This security key is not registered to your account. Use a key you have added, or another method.',
  unsupported: 'This browser cannot use security keys. Use another browser or another sign-in method.',
  noSupportedAlgorithm: 'This security key does not support any of the signature algorithms the server accepts.',
  keyFailed: 'The security key could not complete the request. Unplug it, plug it back in and try again.',
} as const;

export function describeCeremonyError(error: unknown, context: CeremonyErrorContext): string {
  const name = error instanceof Error ? error.name : '';
  const code = error instanceof WebAuthnError ? error.code : undefined;

  if (code === 'ERROR_INVALID_DOMAIN' || code === 'ERROR_INVALID_RP_ID' || name === 'SecurityError') {
    return CEREMONY_MESSAGES.notAllowedHere;
  }
  if (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' || name === 'InvalidStateError') {
    // Only registration raises this: the key holds a credential listed in excludeCredentials.
    return CEREMONY_MESSAGES.alreadyRegistered;
  }
  if (code === 'ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG') {
    return CEREMONY_MESSAGES.noSupportedAlgorithm;
  }
  if (name === 'NotAllowedError' || code === 'ERROR_PASSTHROUGH_SEE_CAUSE_PROPERTY' || code === 'ERROR_CEREMONY_ABORTED') {
    const elapsed = (context.endedAt ?? performance.now()) - context.startedAt;
    const timeout = context.timeoutMs;
    if (timeout !== undefined && timeout > 0 && elapsed >= timeout * TIMEOUT_SHARE) return CEREMONY_MESSAGES.timedOut;
    return context.ceremony === 'authentication' ? CEREMONY_MESSAGES.cancelledOrNotRegistered : CEREMONY_MESSAGES.cancelled;
  }
  if (error instanceof Error && /not supported in this browser/i.test(error.message)) {
    return CEREMONY_MESSAGES.unsupported;
  }
  return CEREMONY_MESSAGES.keyFailed;
}
