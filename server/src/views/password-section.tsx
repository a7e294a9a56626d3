/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { PASSWORD_ROUTES } from './password-routes.js';

/** The account page's password card. */
export function PasswordSection() {
  return (
    <section class="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      <p>Changing your password logs you out on every other browser and forgets every remembered device.</p>
      <p>
        <a class="button" href={PASSWORD_ROUTES.changePassword}>
          Change password
        </a>
      </p>
    </section>
  );
}
