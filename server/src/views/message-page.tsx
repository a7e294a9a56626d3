/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ROUTES } from '@latchkey/shared';
import { Layout, type PageContext } from './layout.js';

/** Any error or dead end: a heading, what happened, and where to go next. Never a stack trace. */
export function MessagePage({
  page,
  title,
  message,
  loginAgain = false,
  action,
  tone = 'error',
}: {
  page: PageContext;
  title: string;
  message: string;
  loginAgain?: boolean;
  /** The way forward when it is neither the account page nor the login page (e.g. "Request a new link"). */
  action?: { href: string; label: string } | undefined;
  /** `success` for a dead end that is not a problem (e.g. a used login link when already logged in). */
  tone?: 'error' | 'success';
}) {
  return (
    <Layout page={page} title={title}>
      <h1>{title}</h1>
      <div class={`notice notice-${tone}`} role={tone === 'error' ? 'alert' : 'status'} tabIndex={-1} autofocus>
        <p>{message}</p>
      </div>
      <p>
        {action ? (
          <a class="button button-primary" href={action.href}>
            {action.label}
          </a>
        ) : loginAgain ? (
          <a class="button button-primary" href={ROUTES.login}>
            Log in again
          </a>
        ) : (
          <a href={page.username ? ROUTES.manageAccount : ROUTES.login}>{page.username ? 'Back to your account' : 'Go to the login page'}</a>
        )}
      </p>
    </Layout>
  );
}
