/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import type { ComponentChildren } from 'preact';
import { ROUTES, FIELDS } from '@latchkey/shared';
import type { Flash } from '../services/sessions.js';

/** What every page knows about the request: who is logged in, the CSRF token, a one-shot message. */
export interface PageContext {
  csrfToken: string;
  username: string | null;
  flash?: Flash | null;
}

export interface LayoutProps {
  page: PageContext;
  title: string;
  children: ComponentChildren;
  /** Module scripts under /static (no inline script: the CSP forbids it). */
  scripts?: string[];
}

/** The page shell: skip link, header with the account menu, one `<main>`, footer. */
export function Layout({ page, title, children, scripts = [] }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${title} · Latchkey`}</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/latchkey.css" />
        <script type="module" src="/static/focus-heading.js" />
        {scripts.map((src) => (
          <script type="module" src={src} key={src} />
        ))}
      </head>
      <body>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="site-header">
          <a class="brand" href={ROUTES.home}>
            Latchkey
          </a>
          <nav aria-label="Account">
            {page.username ? (
              <form method="post" action={ROUTES.logout} class="inline-form">
                <CsrfInput token={page.csrfToken} />
                <span class="muted">
                  Logged in as{' '}
                  <strong>
                    <bdi>{page.username}</bdi>
                  </strong>
                </span>{' '}
                <button type="submit" class="link-button">
                  Log out
                </button>
              </form>
            ) : (
              <>
                <a href={ROUTES.login}>Log in</a> <a href={ROUTES.register}>Register</a>
              </>
            )}
          </nav>
        </header>
        <main id="main">
          {page.flash ? <FlashMessage flash={page.flash} /> : null}
          {children}
        </main>
        <footer class="site-footer">
          <p>Latchkey — two-factor login for package maintainers.</p>
        </footer>
      </body>
    </html>
  );
}

export function CsrfInput({ token }: { token: string }) {
  return <input type="hidden" name={FIELDS.csrfToken} value={token} />;
}

/** Focused on load (no script: `autofocus` on a focusable element), so after a redirect the news is where focus is, not `<body>`. */
export function FlashMessage({ flash }: { flash: Flash }) {
  return (
    <div class={`notice notice-${flash.kind}`} role={flash.kind === 'success' ? 'status' : 'alert'} tabIndex={-1} autofocus>
      {flash.text}
    </div>
  );
}

/**
 * Errors for the whole form, announced by screen readers as soon as the page loads. With `focus`, the
 * summary takes focus on load — for pages where no field does (the first invalid field is better).
 */
export function ErrorSummary({ errors, focus = false }: { errors: string[]; focus?: boolean }) {
  const focused = focus && errors.length > 0;
  return (
    <div
      class="notice notice-error"
      role="alert"
      aria-live="assertive"
      hidden={errors.length === 0}
      tabIndex={focused ? -1 : undefined}
      autofocus={focused || undefined}
    >
      {errors.length === 1 ? (
        <p>{errors[0]}</p>
      ) : (
        <ul>
          {errors.map((error) => (
            <li key={error}>{error}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export interface FieldProps {
  name: string;
  /** Element id; defaults to `field-{name}`. Give one when a page has two fields of the same name (ids must be unique). */
  id?: string;
  label: string;
  type?: string;
  value?: string;
  error?: string | undefined;
  hint?: ComponentChildren;
  autocomplete?: string;
  required?: boolean;
  maxLength?: number;
  minLength?: number;
  inputMode?: 'numeric' | 'text' | 'email';
  pattern?: string;
  autofocus?: boolean;
  spellcheck?: boolean;
}

/** A labelled input with its hint and error wired up through aria-describedby. */
export function Field(props: FieldProps) {
  const id = props.id ?? `field-${props.name}`;
  const describedBy = [props.hint ? `${id}-hint` : null, props.error ? `${id}-error` : null].filter(Boolean).join(' ');
  return (
    <div class={props.error ? 'field field-invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        autocomplete={props.autocomplete}
        required={props.required ?? true}
        maxLength={props.maxLength}
        minLength={props.minLength}
        inputMode={props.inputMode}
        pattern={props.pattern}
        autofocus={props.autofocus}
        spellcheck={props.spellcheck}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={describedBy || undefined}
      />
      {props.error ? (
        <p class="field-error" id={`${id}-error`}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** Format a ms timestamp for people: `2026-11-25 12:13 UTC`. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Form field of {@link ConfirmCheckbox}: `on` when ticked. */
export const CONFIRM_FIELD = 'confirm';

/**
 * A required "I understand …" checkbox in front of an action that cannot be undone. No script: the
 * browser will not submit the form unticked (`required`), and the server checks it again.
 */
export function ConfirmCheckbox({ id, label, error, autofocus }: { id: string; label: string; error?: string | undefined; autofocus?: boolean }) {
  return (
    <div class={error ? 'checkbox confirm field-invalid' : 'checkbox confirm'}>
      <input
        id={id}
        type="checkbox"
        name={CONFIRM_FIELD}
        value="on"
        required
        autofocus={autofocus}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      <label for={id}>{label}</label>
      {error ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}
