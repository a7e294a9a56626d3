/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { CsrfInput, ErrorSummary, Field, Layout, type PageContext } from './layout.js';
import { END_FIELDS } from './session-list.js';

export interface ConfirmPasswordPageProps {
  page: PageContext;
  /** The page's heading, e.g. "End the session of Firefox 128 on Windows?". */
  title: string;
  /** What will happen. */
  message: string;
  /** Where the confirmed form posts (the action asked for). */
  action: string;
  /** The hidden fields naming what to act on (e.g. `{session: id}`). */
  hidden: Record<string, string>;
  buttonLabel: string;
  /** Wrong or missing password on a previous try. */
  error?: string | undefined;
}

/**
 * "Confirm with your password": shown instead of acting when an action needs a recent proof of identity
 * (ASVS V3.7.1) and the last one is over 5 minutes old. One password field per page, so lists with a
 * button per row need no password field per row.
 */
export function ConfirmPasswordPage(props: ConfirmPasswordPageProps) {
  const { page } = props;
  return (
    <Layout page={page} title={props.title}>
      <h1>{props.title}</h1>
      <ErrorSummary errors={props.error ? [props.error] : []} />
      <p>{props.message}</p>
      <form method="post" action={props.action} class="stack">
        <CsrfInput token={page.csrfToken} />
        {Object.entries(props.hidden).map(([name, value]) => (
          <input type="hidden" name={name} value={value} key={name} />
        ))}
        <input type="hidden" name={END_FIELDS.confirm} value="1" />
        <Field
          name={FIELDS.password}
          label="Your password"
          type="password"
          autocomplete="current-password"
          error={props.error}
          autofocus
          hint="You last proved your identity more than 5 minutes ago, so this needs your password."
        />
        <div class="actions">
          <button type="submit" class="button button-danger">
            {props.buttonLabel}
          </button>
          <a href={ROUTES.manageAccount}>Cancel</a>
        </div>
      </form>
    </Layout>
  );
}
