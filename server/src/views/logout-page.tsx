/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ROUTES } from '@latchkey/shared';
import { CsrfInput, Layout, type PageContext } from './layout.js';

/**
 * `GET /account/logout/`: a page with the "Log out" button. Logging out itself stays a POST with the
 * CSRF token, so a link or an image elsewhere cannot log anyone out.
 */
export function LogoutPage({ page }: { page: PageContext }) {
  return (
    <Layout page={page} title="Log out">
      <h1>Log out</h1>
      {page.username ? (
        <form method="post" action={ROUTES.logout} class="stack">
          <CsrfInput token={page.csrfToken} />
          <p>
            You are logged in as <strong>{page.username}</strong>. Log out of this browser? Your other sessions stay logged in; end them from{' '}
            <a href={ROUTES.manageAccount}>account security</a>.
          </p>
          <p class="actions">
            <button type="submit" class="button button-primary" autofocus>
              Log out
            </button>
            <a href={ROUTES.manageAccount}>Cancel</a>
          </p>
        </form>
      ) : (
        <>
          <p>You are not logged in.</p>
          <p>
            <a class="button button-primary" href={ROUTES.login}>
              Log in
            </a>
          </p>
        </>
      )}
    </Layout>
  );
}
