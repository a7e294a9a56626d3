/**
 * Two-factor page: "Use security key". Asks the server for request options bound to this login
 * (`?token=T`), lets the browser talk to the key, sends the assertion back and follows the redirect.
 * After any failure the button works again and the reason is announced in plain words.
 */
import { startAuthentication, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { FIELDS, ROUTES, type WebauthnAuthenticateSuccess } from '@latchkey/shared';
import { describeCeremonyError } from './webauthn-ceremony-error.js';
import { WEBAUTHN_DOM } from '../views/webauthn-dom.js';
import { isSafeRedirect, postJson, readCsrfToken } from './post-json.js';
import { type StatusRegion, statusRegion } from './status-region.js';

/** The page's own query (`?token=T&next=…`): binds the call to this login and keeps where to go afterwards. */
function withLoginQuery(path: string): string {
  return `${path}${window.location.search}`;
}

/**
 * This login can never succeed any more (its token expired or was used): say so, offer the login page, and
 * leave the button disabled — pressed again it would only repeat the refusal. Returns whether it was that.
 */
function offerRestart(failure: { message: string; restart?: string }, status: StatusRegion, button: HTMLButtonElement): boolean {
  if (failure.restart === undefined) return false;
  status.show(failure.message, 'error', { href: failure.restart, text: 'Log in again' });
  button.hidden = true;
  return true;
}

async function authenticate(form: HTMLFormElement | null, button: HTMLButtonElement): Promise<void> {
  const status = statusRegion(WEBAUTHN_DOM.authStatus, button);
  const csrfToken = readCsrfToken(form);
  button.disabled = true;
  status.show('Getting ready…', 'info');
  try {
    const options = await postJson<PublicKeyCredentialRequestOptionsJSON>(withLoginQuery(ROUTES.webauthnAuthenticateOptions), {}, csrfToken);
    if (!options.ok) {
      if (offerRestart(options, status, button)) return;
      return status.show(options.message, 'error');
    }

    status.show('Touch your security key.', 'info');
    const startedAt = performance.now();
    let credential;
    try {
      credential = await startAuthentication({ optionsJSON: options.data });
    } catch (error) {
      return status.show(describeCeremonyError(error, { ceremony: 'authentication', startedAt, timeoutMs: options.data.timeout }), 'error');
    }

    status.show('Checking…', 'info');
    // The page's one "Remember this device" checkbox applies to a security-key login too.
    const remember = document.querySelector<HTMLInputElement>(`input[name="${FIELDS.rememberDevice}"]`)?.checked === true;
    const result = await postJson<WebauthnAuthenticateSuccess>(
      withLoginQuery(ROUTES.webauthnAuthenticateValidate),
      { credential, [FIELDS.rememberDevice]: remember },
      csrfToken,
    );
    if (!result.ok) {
      if (offerRestart(result, status, button)) return;
      return status.show(result.message, 'error');
    }
    status.show(result.data.success || 'Signed in.', 'info');
    window.location.assign(isSafeRedirect(result.data.redirect_to) ? result.data.redirect_to : ROUTES.manageAccount);
  } finally {
    button.disabled = false;
  }
}

const button = document.getElementById(WEBAUTHN_DOM.authButton);
if (button instanceof HTMLButtonElement) {
  const form = document.getElementById(WEBAUTHN_DOM.authForm);
  const authForm = form instanceof HTMLFormElement ? form : null;
  let running = false;
  const begin = (event: Event): void => {
    event.preventDefault();
    if (running) return;
    running = true;
    void authenticate(authForm, button).finally(() => {
      running = false;
    });
  };
  button.addEventListener('click', begin);
  authForm?.addEventListener('submit', begin);
  button.disabled = false; // the page renders it disabled until this script listens
}
