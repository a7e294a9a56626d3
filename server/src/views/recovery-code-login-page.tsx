/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ROUTES } from '@latchkey/shared';
import type { SupportContact } from '../config.js';
import { allErrors, type FormState } from './form-state.js';
import { LockedOutHelp } from './help.js';
import { CsrfInput, ErrorSummary, Layout, type PageContext } from './layout.js';
import { RecoveryCodeField } from './recovery-code-field.js';
import { RememberDeviceField, SUBMIT_ONCE_SCRIPT } from './two-factor-page.js';

export interface RecoveryCodeLoginPageProps {
  page: PageContext;
  query: string;
  form?: FormState;
  /** LATCHKEY_SUPPORT_CONTACT: how someone who lost every factor and code reaches the administrators (null: unset). */
  support?: SupportContact | null;
}

export function RecoveryCodeLoginPage({ page, query, form = {}, support = null }: RecoveryCodeLoginPageProps) {
  return (
    <Layout page={page} title="Log in with a recovery code" scripts={[SUBMIT_ONCE_SCRIPT]}>
      <h1>Log in with a recovery code</h1>
      <p>Each recovery code works once. After logging in, check your security settings and generate new codes if you are running low.</p>
      {/* A refused code (and the attempts left) takes focus before the code field's autofocus, so it is read first. */}
      <ErrorSummary errors={allErrors(form)} focus />
      {/* Sent once: a double-click must not post the same single-use code twice (static/submit-once.js). */}
      <form method="post" action={`${ROUTES.recoveryCode}${query}`} class="stack" novalidate data-submit-once>
        <CsrfInput token={page.csrfToken} />
        <RecoveryCodeField label="Recovery code" form={form} />
        <RememberDeviceField />
        <button type="submit" class="button button-primary">
          Verify
        </button>
      </form>
      <p>
        <a href={`${ROUTES.twoFactor}${query}`}>Use another method</a>
      </p>
      {/* Also where a lock-out ("too many attempts") is read: the one way left when no code works. */}
      <section class="help" aria-labelledby="locked-out-heading">
        <h2 id="locked-out-heading">No recovery code left?</h2>
        <LockedOutHelp support={support} />
      </section>
    </Layout>
  );
}
