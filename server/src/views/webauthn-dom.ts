/**
 * Element ids the WebAuthn page scripts and the server views agree on. Plain constants (no DOM types),
 * so the server-side views import them too. The two-factor page's button and form ids come from the
 * shared contract (`DOM`), because the extension clicks that button.
 */
import { DOM } from '@latchkey/shared';

export const WEBAUTHN_DOM = {
  authForm: DOM.webauthnFormId,
  authButton: DOM.webauthnBeginButtonId,
  /** aria-live region where the two-factor page explains a failed security-key login. */
  authStatus: 'webauthn-status',
  provisionForm: 'webauthn-provision-form',
  provisionLabel: 'webauthn-provision-label',
  /**
   * Holds the password field (rendered when the login is over 5 minutes old). The page script hides it
   * once the server has accepted the password, and adds it when a page left open asks for it again.
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
