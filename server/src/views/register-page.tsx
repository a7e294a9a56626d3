/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_MAX_LENGTH, EMAIL_MAX_LENGTH } from '../services/accounts.js';
import { allErrors, firstInvalid, type FormState } from './form-state.js';
import { CsrfInput, ErrorSummary, Field, Layout, type PageContext } from './layout.js';

/** The form's fields top to bottom: errors are listed, and the first one focused, in this order. */
export const REGISTER_FIELD_ORDER = [FIELDS.username, FIELDS.email, FIELDS.newPassword, FIELDS.passwordConfirm] as const;

export function RegisterPage({ page, form = {} }: { page: PageContext; form?: FormState }) {
  const values = form.values ?? {};
  const errors = form.fieldErrors ?? {};
  // No script needed: the browser focuses the first invalid field on load (WCAG 3.3.1, focus to the first error).
  const focus = firstInvalid(form, REGISTER_FIELD_ORDER);
  return (
    <Layout page={page} title="Create an account">
      <h1>Create an account</h1>
      <ErrorSummary errors={allErrors(form)} />
      <form method="post" action={ROUTES.register} class="stack" novalidate>
        <CsrfInput token={page.csrfToken} />
        <Field
          name={FIELDS.username}
          label="Username"
          value={values[FIELDS.username]}
          error={errors[FIELDS.username]}
          autofocus={focus === FIELDS.username}
          autocomplete="username"
          maxLength={USERNAME_MAX_LENGTH}
          spellcheck={false}
          hint="Letters A–Z, digits, “.”, “_” and “-”. Not case-sensitive."
        />
        <Field
          name={FIELDS.email}
          label="Email address"
          type="email"
          value={values[FIELDS.email]}
          error={errors[FIELDS.email]}
          autofocus={focus === FIELDS.email}
          autocomplete="email"
          maxLength={EMAIL_MAX_LENGTH}
        />
        <Field
          name={FIELDS.newPassword}
          label="Password"
          type="password"
          error={errors[FIELDS.newPassword]}
          autofocus={focus === FIELDS.newPassword}
          autocomplete="new-password"
          minLength={PASSWORD_MIN_LENGTH}
          maxLength={PASSWORD_MAX_LENGTH}
          hint={`At least ${PASSWORD_MIN_LENGTH} characters, and not a common password. A passphrase of several words is easy to remember and hard to guess.`}
        />
        <Field
          name={FIELDS.passwordConfirm}
          label="Confirm password"
          type="password"
          error={errors[FIELDS.passwordConfirm]}
          autofocus={focus === FIELDS.passwordConfirm}
          autocomplete="new-password"
          maxLength={PASSWORD_MAX_LENGTH}
        />
        <button type="submit" class="button button-primary">
          Create account
        </button>
      </form>
      <p>
        Already have an account? <a href={ROUTES.login}>Log in</a>.
      </p>
    </Layout>
  );
}
