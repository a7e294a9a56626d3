/** @jsxRuntime automatic @jsxImportSource preact */
import { ROUTES } from '@latchkey/shared';
import { Layout, type PageContext } from './layout.js';

/** Any error or dead end: a heading, what happened, and where to go next. Never a stack trace. */
export function MessagePage({
  page,
  title,
  message,
  loginAgain = false,
}: {
  page: PageContext;
  title: string;
  message: string;
  loginAgain?: boolean;
}) {
  return (
    <Layout page={page} title={title}>
      <h1>{title}</h1>
      <div class="notice notice-error" role="alert">
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
