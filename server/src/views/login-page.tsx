/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { allErrors, type FormState } from './form-state.js';
import { CsrfInput, ErrorSummary, Field, Layout, type PageContext } from './layout.js';
import { PASSWORD_ROUTES } from './password-routes.js';

/** A sentence above the form, and its style. */
export interface LoginNotice {
  text: string;
  kind: 'success' | 'warning';
}

export interface LoginPageProps {
  page: PageContext;
  form?: FormState;
  next: string | null;
  /** Why the visitor is here: they logged out, or their session ended elsewhere. */
  notice?: LoginNotice | null;
}

export function LoginPage({ page, form = {}, next, notice = null }: LoginPageProps) {
  const values = form.values ?? {};
  const errors = form.fieldErrors ?? {};
  return (
    <Layout page={page} title="Log in">
      <h1>Log in</h1>
      {notice ? (
        <div class={`notice notice-${notice.kind}`} role="status">
          <p>{notice.text}</p>
        </div>
      ) : null}
      {/* A wrong password or a lock-out takes focus (before the username field's autofocus), so it is read first. */}
      <ErrorSummary errors={allErrors(form)} focus />
      <form method="post" action={ROUTES.login} class="stack" novalidate>
        <CsrfInput token={page.csrfToken} />
        {next ? <input type="hidden" name={FIELDS.next} value={next} /> : null}
        <Field
          name={FIELDS.username}
          label="Username"
          value={values[FIELDS.username]}
          error={errors[FIELDS.username]}
          autocomplete="username"
          spellcheck={false}
          autofocus
        />
        <Field name={FIELDS.password} label="Password" type="password" error={errors[FIELDS.password]} autocomplete="current-password" />
        <p class="hint">
          <a href={PASSWORD_ROUTES.requestPasswordReset}>Forgot password?</a>
        </p>
        <button type="submit" class="button button-primary">
          Log in
        </button>
      </form>
      <p>
        No account yet? <a href={ROUTES.register}>Create one</a>.
      </p>
    </Layout>
  );
}
