/** @jsxRuntime automatic @jsxImportSource preact */
import { ROUTES } from '@latchkey/shared';
import { Layout, type PageContext } from './layout.js';

/** Any error or dead end: a heading, what happened, and where to go next. Never a stack trace. */
export function MessagePage({
  page,
  title,
  message,
  loginAgain = false,
  tone = 'error',
}: {
  page: PageContext;
  title: string;
  message: string;
  loginAgain?: boolean;
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
        {loginAgain ? (
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
