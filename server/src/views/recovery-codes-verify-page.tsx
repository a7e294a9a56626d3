/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ROUTES } from '@latchkey/shared';
import { allErrors, type FormState } from './form-state.js';
import { CsrfInput, ErrorSummary, Layout, type PageContext } from './layout.js';
import { RecoveryCodeField } from './recovery-code-field.js';
import { RECOVERY_CODE_ROUTES } from './recovery-code-routes.js';

/** The burn step: type one code of the set just shown, proving it was saved. */
export function RecoveryCodesVerifyPage({ page, form = {} }: { page: PageContext; form?: FormState }) {
  const errors = allErrors(form);
  return (
    <Layout page={page} title="Confirm your recovery codes">
      <h1>Confirm your recovery codes</h1>
      <p>To make sure you saved your new recovery codes, type any one of them from where you saved it. That code is then used up; the others keep working.</p>
      <ErrorSummary errors={errors} />
      <form method="post" action={RECOVERY_CODE_ROUTES.verify} class="stack" novalidate>
        <CsrfInput token={page.csrfToken} />
        <RecoveryCodeField label="One of your new recovery codes" form={form} />
        <button type="submit" class="button button-primary">
          Confirm
        </button>
      </form>
      <p>
        Did not save them? <a href={ROUTES.manageAccount}>Generate a new set from your account page</a> — the set you were shown can never be displayed again.
      </p>
    </Layout>
  );
}
