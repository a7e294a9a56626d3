/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { ReauthField } from './reauth-field.js';
import { allErrors, type FormState } from './form-state.js';
import { CsrfInput, ErrorSummary, Layout, type PageContext } from './layout.js';

export interface TotpProvisionPageProps {
  page: PageContext;
  /** Canonical base32 secret, shown in groups of four for typing by hand. */
  secret: string;
  /** The same secret as an `otpauth://totp/…` URI (what the QR code holds), shown as text to copy. */
  otpauthUri: string;
  issuer: string;
  username: string;
  recentlyAuthenticated: boolean;
  form?: FormState;
}

export function TotpProvisionPage({ page, secret, otpauthUri, issuer, username, recentlyAuthenticated, form = {} }: TotpProvisionPageProps) {
  const grouped = secret.match(/.{1,4}/g)?.join(' ') ?? secret;
  return (
    <Layout page={page} title="Add an authentication app">
      <h1>Add an authentication app</h1>
      <ErrorSummary errors={allErrors(form)} focus />
      <ol class="steps">
        <li>
          <h2>Scan the QR code</h2>
          <p>Open your authentication app (or the Latchkey extension) and scan this code.</p>
          <img
            class="qr"
            src={ROUTES.totpProvisionImage}
            width={220}
            height={220}
            alt={`QR code holding the secret for ${issuer}: ${username}. If you cannot scan it, type the secret shown below.`}
          />
          <p>Can't scan it? Enter this secret in your app instead (time-based, 6 digits, 30 seconds):</p>
          <p class="secret">
            {/* biome-ignore lint/a11y/useAriaPropsSupportedByRole: the secret is read out as "Secret key"; axe (WCAG 2.2 A/AA) accepts it */}
            <code aria-label="Secret key">{grouped}</code>
          </p>
          <div class="field">
            <label for="otpauth-uri">Or copy the whole set-up link</label>
            <p class="hint" id="otpauth-uri-hint">
              For apps that take a link (otpauth://), such as the Latchkey extension's Paste tab. It holds the secret: keep it private.
            </p>
            {/* Read-only text, not a link: selecting and copying it needs no script (CSP), nothing opens by accident, and it wraps whole. */}
            <textarea id="otpauth-uri" class="uri" rows={3} readOnly spellcheck={false} autocomplete="off" aria-describedby="otpauth-uri-hint">
              {otpauthUri}
            </textarea>
          </div>
        </li>
        <li>
          <h2>Confirm with a code</h2>
          <form method="post" action={ROUTES.totpProvision} class="stack" novalidate>
            <CsrfInput token={page.csrfToken} />
            <div class={form.fieldErrors?.[FIELDS.totpValue] ? 'field field-invalid' : 'field'}>
              <label for="totp-value">The 6-digit code your app shows now</label>
              <input
                id="totp-value"
                name={FIELDS.totpValue}
                type="text"
                autocomplete="one-time-code"
                inputMode="numeric"
                pattern="[0-9 ]*"
                maxLength={7}
                required
                spellcheck={false}
                class="code-input"
                aria-invalid={form.fieldErrors?.[FIELDS.totpValue] ? 'true' : undefined}
              />
            </div>
            <ReauthField recentlyAuthenticated={recentlyAuthenticated} error={form.fieldErrors?.[FIELDS.password]} />
            <button type="submit" class="button button-primary">
              Turn on
            </button>
          </form>
        </li>
      </ol>
      <p>
        <a href={ROUTES.manageAccount}>Cancel</a>
      </p>
    </Layout>
  );
}
