/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { DOM, FIELDS, ROUTES } from '@latchkey/shared';
import { allErrors, type FormState } from './form-state.js';
import type { SupportContact } from '../config.js';
import { LockedOutHelp, WhatIsTwoFactor } from './help.js';
import { CsrfInput, ErrorSummary, Layout, type PageContext } from './layout.js';
import { WEBAUTHN_DOM } from './webauthn-dom.js';

const TOTP_FORM_ID = 'totp-form';

/**
 * The page script that sends a form marked `data-submit-once` once: a double-click on Verify (or the
 * extension's auto-submit plus an Enter) must not post the same one-time code twice (see the file).
 */
export const SUBMIT_ONCE_SCRIPT = '/static/submit-once.js';

/**
 * "Remember this device for 30 days" (`remember_device`), offered with every second factor so a user
 * with only a security key, or logging in with a recovery code, can be remembered too.
 * `form` names the form it belongs to when it sits outside it.
 */
export function RememberDeviceField({ form }: { form?: string | undefined }) {
  return (
    <div class="checkbox remember-device">
      <input id="remember-device" type="checkbox" name={FIELDS.rememberDevice} value="on" form={form} aria-describedby="remember-device-hint" />
      <label for="remember-device">Remember this device for 30 days</label>
      <p class="hint" id="remember-device-hint">
        This browser then skips the second factor. Only on a device that is yours.
      </p>
    </div>
  );
}

export interface TwoFactorPageProps {
  page: PageContext;
  hasTotp: boolean;
  hasSecurityKey: boolean;
  /**
   * Whether the account has an unused recovery code. Without one the recovery-code link only led to a form no code
   * could pass (a key-only account whose codes were all used, say): the page says there are none instead.
   */
  hasRecoveryCodes: boolean;
  /** The query string of this page (`?token=…&next=…`), kept on the form action and the recovery link. */
  query: string;
  form?: FormState;
  /** Page scripts (the WebAuthn ceremony), added by the routes that offer security keys. */
  scripts?: string[];
  /**
   * What is locked right now, said on arrival rather than after a code is sent (issue 17 point 9):
   * `all` pauses every method (the recovery-code link is not offered then; its message goes into
   * `form.errors`); `totp` only the app, said in the app's part unless `totpInErrors` (a code sent
   * anyway was refused for it, and `form.errors` says so already).
   */
  locks?: { all: string | null; totp: string | null; totpInErrors?: boolean };
  /** LATCHKEY_SUPPORT_CONTACT: how someone who lost every factor and code reaches the administrators (null: unset). */
  support?: SupportContact | null;
}

/**
 * The second login step. Field names and ids match pypi.org's own page (DESIGN.md section 2), so the
 * Latchkey extension and password managers fill it the same way on both.
 */
export function TwoFactorPage({
  page,
  hasTotp,
  hasSecurityKey,
  hasRecoveryCodes,
  query,
  form = {},
  scripts,
  locks = { all: null, totp: null },
  support = null,
}: TwoFactorPageProps) {
  // The route puts the lock's message among the errors (once); here only whether something is locked counts.
  const offerKey = hasSecurityKey && !locks.all;
  const offerTotp = hasTotp && !locks.all && !locks.totp;
  return (
    <Layout page={page} title="Two-factor authentication" scripts={[SUBMIT_ONCE_SCRIPT, ...(scripts ?? [])]}>
      <h1>Two-factor authentication</h1>
      <p>Your password was correct. Now prove it is you with one of your second factors.</p>
      {/* A refused code or a lock-out: the message takes focus (before the code field's autofocus), so it is read first. */}
      <ErrorSummary errors={allErrors(form)} focus />
      {/* One choice for every method: the code form submits it (`form=`), the security-key script reads it. */}
      {offerKey || offerTotp ? <RememberDeviceField form={offerTotp ? TOTP_FORM_ID : undefined} /> : null}
      {offerKey ? (
        <section class="card" aria-labelledby="key-heading">
          <h2 id="key-heading">Security key</h2>
          <p>Insert or unlock your security key, then press the button and follow your browser.</p>
          <form id={DOM.webauthnFormId} class="stack">
            <CsrfInput token={page.csrfToken} />
            <p id={WEBAUTHN_DOM.authStatus} class="status" role="status" aria-live="polite"></p>
            {/* Shown by the page script (its href the server's `restart`) when this login can never succeed any more. */}
            <p id={WEBAUTHN_DOM.authRestart} hidden>
              <a href={ROUTES.login}>Log in again</a>
            </p>
            {/* Disabled until the page script listens: a click before that would silently do nothing. */}
            <button id={DOM.webauthnBeginButtonId} type="button" class="button button-primary" disabled>
              Use security key
            </button>
            <noscript>
              <p class="hint">
                Using a security key needs JavaScript: the browser only talks to keys through it. Turn JavaScript on for this site, or use another method below.
              </p>
            </noscript>
          </form>
        </section>
      ) : null}
      {hasTotp && !locks.all && locks.totp && !locks.totpInErrors ? (
        <section class="card" aria-labelledby="totp-heading">
          <h2 id="totp-heading">Authentication app</h2>
          <div class="notice notice-error" id="totp-locked">
            <p>{locks.totp}</p>
          </div>
        </section>
      ) : null}
      {offerTotp ? (
        <section class="card" aria-labelledby="totp-heading">
          <h2 id="totp-heading">Authentication app</h2>
          <form id={TOTP_FORM_ID} method="post" action={`${ROUTES.twoFactor}${query}`} class="stack" novalidate data-submit-once>
            <CsrfInput token={page.csrfToken} />
            <div class={form.fieldErrors?.[FIELDS.totpValue] ? 'field field-invalid' : 'field'}>
              <label for="totp-value">Enter the 6-digit code from your authentication app</label>
              {/* Attribute order as on pypi.org: `<input name="totp_value" autocomplete="one-time-code" inputmode="numeric" …>`. */}
              <input
                name={FIELDS.totpValue}
                autocomplete="one-time-code"
                inputMode="numeric"
                id="totp-value"
                type="text"
                pattern="[0-9 ]*"
                maxLength={7}
                required
                autofocus
                spellcheck={false}
                class="code-input"
                aria-invalid={form.fieldErrors?.[FIELDS.totpValue] ? 'true' : undefined}
                aria-describedby={form.fieldErrors?.[FIELDS.totpValue] ? 'totp-value-error' : undefined}
              />
              {/* Tabbing from the error summary to the field: its refusal is read with it, not only its label. */}
              {form.fieldErrors?.[FIELDS.totpValue] ? (
                <p class="field-error" id="totp-value-error">
                  {form.fieldErrors[FIELDS.totpValue]}
                </p>
              ) : null}
            </div>
            <button type="submit" class="button button-primary">
              Verify
            </button>
          </form>
        </section>
      ) : null}
      <section class="card" aria-labelledby="recovery-heading">
        <h2 id="recovery-heading">Lost your device?</h2>
        {!hasRecoveryCodes ? (
          <p>You have no recovery codes left.</p>
        ) : locks.all ? (
          <p>Recovery codes, if you have any left, are paused too until then.</p>
        ) : (
          <p>
            <a href={`${ROUTES.recoveryCode}${query}`}>Log in with a recovery code</a> instead.
          </p>
        )}
        <LockedOutHelp support={support} />
      </section>
      <WhatIsTwoFactor />
    </Layout>
  );
}
