/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { allErrors, type FormState } from './form-state.js';
import { CsrfInput, ErrorSummary, Field, Layout, type PageContext } from './layout.js';
import { firstErrorField, NewPasswordFields } from './new-password-fields.js';
import { PASSWORD_ROUTES } from './password-routes.js';

const ORDER = [FIELDS.password, FIELDS.newPassword, FIELDS.passwordConfirm];

/** Change the password while logged in: the current one, then the new one twice. */
export function ChangePasswordPage({ page, form = {} }: { page: PageContext; form?: FormState }) {
  const errors = form.fieldErrors ?? {};
  const all = allErrors(form);
  return (
    <Layout page={page} title="Change your password">
      <h1>Change your password</h1>
      <p>
        Changing your password logs you out everywhere else and forgets every remembered device. Your two-factor methods and recovery codes stay as they are.
      </p>
      <ErrorSummary errors={all} />
      <form method="post" action={PASSWORD_ROUTES.changePassword} class="stack" novalidate>
        <CsrfInput token={page.csrfToken} />
        <Field
          name={FIELDS.password}
          label="Current password"
          type="password"
          error={errors[FIELDS.password]}
          autocomplete="current-password"
          autofocus={firstErrorField(ORDER, errors) === FIELDS.password}
        />
        <NewPasswordFields errors={errors} autofocusField={all.length > 0 ? firstErrorField(ORDER, errors) : undefined} />
        <button type="submit" class="button button-primary">
          Change password
        </button>
      </form>
      <p>
        <a href={ROUTES.manageAccount}>Back to your account</a>
      </p>
    </Layout>
  );
}
