/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { EMAIL_MAX_LENGTH } from '../services/accounts.js';
import { allErrors, type FormState } from './form-state.js';
import { CsrfInput, ErrorSummary, Field, Layout, type PageContext } from './layout.js';
import { firstErrorField, NewPasswordFields } from './new-password-fields.js';
import { PASSWORD_ROUTES, USERNAME_OR_EMAIL } from './password-routes.js';

/** "Forgot password?": ask for a username or address. `sent` shows the one answer every request gets. */
export function RequestPasswordResetPage({
  page,
  form = {},
  sent = false,
  hours = 1,
}: {
  page: PageContext;
  form?: FormState;
  sent?: boolean;
  hours?: number;
}) {
  const errors = form.fieldErrors ?? {};
  const all = allErrors(form);
  if (sent) {
    return (
      <Layout page={page} title="Check your e-mail">
        <h1 tabindex={-1} autofocus>
          Check your e-mail
        </h1>
        <div class="notice notice-success" role="status">
          <p>
            If an account matches what you entered, we have sent a link to reset its password to the account’s verified e-mail address. The link works once, for{' '}
            {hours} hour{hours === 1 ? '' : 's'}. An address that was never verified gets a message saying why no link came.
          </p>
        </div>
        <p>No e-mail after a few minutes? Check your spam folder, or request a new link.</p>
        <p>
          <a href={ROUTES.login}>Back to log in</a>
        </p>
      </Layout>
    );
  }
  return (
    <Layout page={page} title="Reset your password">
      <h1>Reset your password</h1>
      <p>Enter your username or e-mail address. We will send a link to reset your password to the account’s address.</p>
      <ErrorSummary errors={all} />
      <form method="post" action={PASSWORD_ROUTES.requestPasswordReset} class="stack" novalidate>
        <CsrfInput token={page.csrfToken} />
        <Field
          name={USERNAME_OR_EMAIL}
          label="Username or e-mail address"
          value={form.values?.[USERNAME_OR_EMAIL]}
          error={errors[USERNAME_OR_EMAIL]}
          autocomplete="username"
          maxLength={EMAIL_MAX_LENGTH}
          spellcheck={false}
          autofocus
        />
        <button type="submit" class="button button-primary">
          Send reset link
        </button>
      </form>
      <p>
        Remembered it? <a href={ROUTES.login}>Log in</a>.
      </p>
    </Layout>
  );
}

const RESET_ORDER = [FIELDS.newPassword, FIELDS.passwordConfirm];

/** The page a reset link opens: the new password, twice. The token stays in the form's address only. */
export function ResetPasswordPage({ page, token, username, form = {} }: { page: PageContext; token: string; username: string; form?: FormState }) {
  const errors = form.fieldErrors ?? {};
  const all = allErrors(form);
  return (
    <Layout page={page} title="Choose a new password">
      <h1>Choose a new password</h1>
      <p>
        For the account{' '}
        <strong>
          <bdi>{username}</bdi>
        </strong>
        . Every session of this account ends and remembered devices are forgotten. Your two-factor settings stay as they are: if you use two-factor
        authentication, your next login still asks for your second factor.
      </p>
      <ErrorSummary errors={all} />
      <form method="post" action={`${PASSWORD_ROUTES.resetPassword}?${new URLSearchParams({ token }).toString()}`} class="stack" novalidate>
        <CsrfInput token={page.csrfToken} />
        {/* For password managers: which account the new password belongs to. */}
        <input type="hidden" name={FIELDS.username} value={username} autocomplete="username" />
        <NewPasswordFields errors={errors} autofocusField={firstErrorField(RESET_ORDER, errors)} />
        <button type="submit" class="button button-primary">
          Set new password
        </button>
      </form>
    </Layout>
  );
}

/** After a reset: log in with the new password (the second factor is still asked for). */
export function ResetPasswordDonePage({ page }: { page: PageContext }) {
  return (
    <Layout page={page} title="Password reset">
      <h1 tabindex={-1} autofocus>
        Your password was reset
      </h1>
      <div class="notice notice-success" role="status">
        <p>
          Log in with your new password. If your account has two-factor authentication, the login still asks for your second factor. Every other session has
          ended.
        </p>
      </div>
      <p>
        <a class="button button-primary" href={ROUTES.login}>
          Log in
        </a>
      </p>
    </Layout>
  );
}
