/**
 * Element ids the WebAuthn page scripts and the server views agree on. The views render every element the
 * scripts use (one place for the markup, nothing built in the browser); the scripts only show, hide and fill them. Plain constants (no DOM types),
 * so the server-side views import them too. The two-factor page's button and form ids come from the
 * shared contract (`DOM`), because the extension clicks that button.
 */
import { DOM } from '@latchkey/shared';

export const WEBAUTHN_DOM = {
  authForm: DOM.webauthnFormId,
  authButton: DOM.webauthnBeginButtonId,
  /** aria-live region where the two-factor page explains a failed security-key login. */
  authStatus: 'webauthn-status',
  /**
   * "Log in again", rendered hidden under the status: shown (its href set to the server's `restart`) when the
   * login can never succeed any more, in place of the button.
   */
  authRestart: 'webauthn-restart',
  provisionForm: 'webauthn-provision-form',
  provisionLabel: 'webauthn-provision-label',
  /**
   * Holds the password field, always rendered and hidden while the login is under 5 minutes old. The page
   * script only toggles it: shown when a page left open past the 5 minutes is asked for the password,
   * hidden again once the server has accepted it.
   */
  provisionReauth: 'webauthn-provision-reauth',
  provisionButton: 'webauthn-provision-begin',
  /** aria-live region where the account page reports adding a key. */
  provisionStatus: 'webauthn-provision-status',
  /** The list of registered keys, replaced in place after a key is added. */
  keyList: 'webauthn-key-list',
} as const;

/** Paths of the built page scripts, as served by the app (`/static/` → server/dist/client). */
export const WEBAUTHN_SCRIPTS = {
  authenticate: '/static/webauthn-authenticate.js',
  provision: '/static/webauthn-provision.js',
} as const;
