import { FIELDS, ROUTES } from '@latchkey/shared';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_MAX_LENGTH, EMAIL_MAX_LENGTH } from '../services/accounts.js';
import { allErrors, type FormState } from './form-state.js';
import { CsrfInput, ErrorSummary, Field, Layout, type PageContext } from './layout.js';

export function RegisterPage({ page, form = {} }: { page: PageContext; form?: FormState }) {
  const values = form.values ?? {};
  const errors = form.fieldErrors ?? {};
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
          autocomplete="username"
          maxLength={USERNAME_MAX_LENGTH}
          spellcheck={false}
          hint="Letters, digits, “.”, “_” and “-”. Not case-sensitive."
        />
        <Field
          name={FIELDS.email}
          label="Email address"
          type="email"
          value={values[FIELDS.email]}
          error={errors[FIELDS.email]}
          autocomplete="email"
          maxLength={EMAIL_MAX_LENGTH}
        />
        <Field
          name={FIELDS.newPassword}
          label="Password"
          type="password"
          error={errors[FIELDS.newPassword]}
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
