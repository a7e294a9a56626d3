/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ROUTES } from '@latchkey/shared';
import { WhatIsTwoFactor } from './help.js';
import { Layout, type PageContext } from './layout.js';

/** `/`: what this server is, and the way in — log in or register, or the account when logged in. */
export function HomePage({ page }: { page: PageContext }) {
  return (
    <Layout page={page} title="Welcome">
      <h1>Latchkey</h1>
      <p>
        The account server of this package index. Your account here is protected by your password and, once you turn it on, a second factor: an authentication
        app, a security key, or a recovery code.
      </p>
      {page.username ? (
        <section class="card" aria-labelledby="home-account-heading">
          <h2 id="home-account-heading">Your account</h2>
          <p>
            You are logged in as{' '}
            <strong>
              <bdi>{page.username}</bdi>
            </strong>
            .
          </p>
          <p>
            <a class="button button-primary" href={ROUTES.manageAccount}>
              Go to account security
            </a>
          </p>
        </section>
      ) : (
        <section class="card" aria-labelledby="home-start-heading">
          <h2 id="home-start-heading">Get started</h2>
          <p class="actions">
            <a class="button button-primary" href={ROUTES.login}>
              Log in
            </a>
            <a class="button" href={ROUTES.register}>
              Create an account
            </a>
          </p>
        </section>
      )}
      <WhatIsTwoFactor />
    </Layout>
  );
}
