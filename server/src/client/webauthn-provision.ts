/**
 * Account page: "Add security key". Checks the label with the server, lets the browser create a
 * credential on the key, sends it back with the label, then follows the server's redirect (the
 * updated key list, or the recovery-codes offer after the first second factor).
 */
import { startRegistration, type PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/browser';
import { FIELDS, isolate, ROUTES, type WebauthnProvisionSuccess } from '@latchkey/shared';
import { describeCeremonyError } from './webauthn-ceremony-error.js';
import { TWO_FACTOR_PURPOSE } from '../views/reauth-hint.js';
import { WEBAUTHN_DOM } from '../views/webauthn-dom.js';
import { isSafeRedirect, postJson, readCsrfToken } from './post-json.js';
import { busyGate } from './busy-button.js';
import { statusRegion, type StatusRegion } from './status-region.js';

type ProvisionSuccess = WebauthnProvisionSuccess & { redirect_to?: string };

/** Said when the server asks for the password (its refusal names the field) on a page rendered inside the 5 minutes, without it, and left open past them. */
const PASSWORD_AGAIN_MESSAGE = 'More than 5 minutes have passed since you last proved your identity. Enter your password, then press "Add security key" again.';

/** The password input, when its wrapper is shown (the server wants the password with the next options request). */
function visiblePassword(reauth: HTMLElement): HTMLInputElement | null {
  if (reauth.hidden) return null;
  return reauth.querySelector<HTMLInputElement>(`input[name="${FIELDS.password}"]`);
}

/** Shows the rendered password field in place (no reload, the name stays typed) and sends the person to it. */
function askForPassword(reauth: HTMLElement, status: StatusRegion): void {
  reauth.hidden = false;
  status.show(PASSWORD_AGAIN_MESSAGE, 'error');
  reauth.querySelector<HTMLInputElement>(`input[name="${FIELDS.password}"]`)?.focus();
}

async function provision(form: HTMLFormElement, label: HTMLInputElement, reauth: HTMLElement, status: StatusRegion, button: HTMLButtonElement): Promise<void> {
  const csrfToken = readCsrfToken(form);
  const chosenLabel = label.value.trim();
  if (chosenLabel === '') {
    status.show('Give the key a name first, for example "blue USB key".', 'error');
    label.focus();
    return;
  }

  // Shown only when the last proof of identity is over 5 minutes old: the server then wants it again.
  const password = visiblePassword(reauth);
  if (password && password.value === '') {
    status.show(`Enter your password first: ${TWO_FACTOR_PURPOSE} needs it.`, 'error');
    password.focus();
    return;
  }

  status.show('Getting ready…', 'info');
  const options = await postJson<PublicKeyCredentialCreationOptionsJSON>(
    ROUTES.webauthnProvisionOptions,
    password ? { [FIELDS.label]: chosenLabel, [FIELDS.password]: password.value } : { [FIELDS.label]: chosenLabel },
    csrfToken,
  );
  if (password) password.value = '';
  if (!options.ok) {
    // A refusal about the password while its field is hidden (a wrong password has it shown: its message is said).
    if (options.field === FIELDS.password && !visiblePassword(reauth)) return askForPassword(reauth, status);
    return status.show(options.message, 'error', { takeFocusFrom: button });
  }
  // The server now holds a fresh proof (this password, or a login inside the window): a retry after a
  // cancelled prompt or a lost connection must not ask for the password it has just accepted.
  reauth.hidden = true;

  status.show('Touch your security key.', 'info');
  const startedAt = performance.now();
  let credential;
  try {
    credential = await startRegistration({ optionsJSON: options.data });
  } catch (error) {
    return status.show(describeCeremonyError(error, { ceremony: 'registration', startedAt, timeoutMs: options.data.timeout }), 'error', {
      takeFocusFrom: button,
    });
  }

  status.show('Saving…', 'info');
  const result = await postJson<ProvisionSuccess>(ROUTES.webauthnProvisionValidate, { credential, [FIELDS.label]: chosenLabel }, csrfToken);
  if (!result.ok) return status.show(result.message, 'error', { takeFocusFrom: button });
  status.show(result.data.success || `Security key “${isolate(chosenLabel)}” added.`, 'info');
  // The server says where to go: the updated key list, or the recovery codes after a first second factor.
  if (isSafeRedirect(result.data.redirect_to)) window.location.assign(result.data.redirect_to);
  else window.location.reload();
}

const form = document.getElementById(WEBAUTHN_DOM.provisionForm);
const label = document.getElementById(WEBAUTHN_DOM.provisionLabel);
const button = document.getElementById(WEBAUTHN_DOM.provisionButton);
const reauth = document.getElementById(WEBAUTHN_DOM.provisionReauth);
const status = statusRegion(WEBAUTHN_DOM.provisionStatus);
// Only on the page that renders every element used (else the button stays disabled, as rendered).
if (form instanceof HTMLFormElement && label instanceof HTMLInputElement && button instanceof HTMLButtonElement && reauth && status) {
  // Busy while the browser's prompt waits, focus kept on the button (busy-button.ts: `disabled` sent it to <body>).
  const run = busyGate(button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run(() => provision(form, label, reauth, status, button));
  });
  button.disabled = false; // the page renders it disabled until this script listens
}
