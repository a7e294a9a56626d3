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
import { busyGate } from './busy-button.js';
import { type StatusRegion, statusRegion } from './status-region.js';

/** The page's own query (`?token=T&next=…`): binds the call to this login and keeps where to go afterwards. */
function withLoginQuery(path: string): string {
  return `${path}${window.location.search}`;
}

/** The page's elements the ceremony reports through (all rendered by views/two-factor-page.tsx). */
interface AuthElements {
  form: HTMLFormElement | null;
  button: HTMLButtonElement;
  status: StatusRegion;
  /** The hidden "Log in again" paragraph and its link. */
  restart: { paragraph: HTMLElement; link: HTMLAnchorElement };
}

/**
 * This login can never succeed any more (its token expired or was used): say so, show the rendered "Log in
 * again" link (pointed where the server said), and hide the button — pressed again it would only repeat the
 * refusal. Returns whether it was that.
 */
function offerRestart(failure: { message: string; restart?: string }, { status, button, restart }: AuthElements): boolean {
  if (failure.restart === undefined) return false;
  // Said before the button is hidden, which would take the focus with it to <body>: the message gets it instead.
  status.show(failure.message, 'error', { takeFocusFrom: button });
  restart.link.href = failure.restart;
  restart.paragraph.hidden = false;
  button.hidden = true;
  return true;
}

async function authenticate(elements: AuthElements): Promise<void> {
  const { form, status, button } = elements;
  const csrfToken = readCsrfToken(form);
  status.show('Getting ready…', 'info');
  const options = await postJson<PublicKeyCredentialRequestOptionsJSON>(withLoginQuery(ROUTES.webauthnAuthenticateOptions), {}, csrfToken);
  if (!options.ok) {
    if (offerRestart(options, elements)) return;
    return status.show(options.message, 'error', { takeFocusFrom: button });
  }

  status.show('Touch your security key.', 'info');
  const startedAt = performance.now();
  let credential;
  try {
    credential = await startAuthentication({ optionsJSON: options.data });
  } catch (error) {
    return status.show(describeCeremonyError(error, { ceremony: 'authentication', startedAt, timeoutMs: options.data.timeout }), 'error', {
      takeFocusFrom: button,
    });
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
    if (offerRestart(result, elements)) return;
    return status.show(result.message, 'error', { takeFocusFrom: button });
  }
  status.show(result.data.success || 'Signed in.', 'info');
  window.location.assign(isSafeRedirect(result.data.redirect_to) ? result.data.redirect_to : ROUTES.manageAccount);
}

const button = document.getElementById(WEBAUTHN_DOM.authButton);
const status = statusRegion(WEBAUTHN_DOM.authStatus);
const restartParagraph = document.getElementById(WEBAUTHN_DOM.authRestart);
const restartLink = restartParagraph?.querySelector('a');
// Only on the page that renders every element used (else the button stays disabled, as rendered).
if (button instanceof HTMLButtonElement && status && restartParagraph && restartLink) {
  const form = document.getElementById(WEBAUTHN_DOM.authForm);
  const elements: AuthElements = {
    form: form instanceof HTMLFormElement ? form : null,
    button,
    status,
    restart: { paragraph: restartParagraph, link: restartLink },
  };
  // Busy while the browser's prompt waits, focus kept on the button (busy-button.ts: `disabled` sent it to <body>).
  const run = busyGate(button);
  const begin = (event: Event): void => {
    event.preventDefault();
    void run(() => authenticate(elements));
  };
  button.addEventListener('click', begin);
  elements.form?.addEventListener('submit', begin);
  button.disabled = false; // the page renders it disabled until this script listens
  // A page offering only a key has no field to autofocus, and a disabled button cannot take `autofocus`: the
  // focus sat on the page itself, the button five Tab presses away. Given it now, unless something (the code
  // field, a message) already has it.
  if (document.activeElement === null || document.activeElement === document.body) button.focus();
}
