/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS } from '@latchkey/shared';
import { Field } from './layout.js';
import { PASSWORD_LABEL, reauthHint, TWO_FACTOR_PURPOSE } from './reauth-hint.js';

/**
 * The password field shown when a 2FA change needs re-authentication (not logged in within 5 minutes),
 * and whenever a refused post comes back with a password error (a password sent inside the window is
 * still checked): an answer that asks for the password must offer the field (QA finding 4).
 */
export function ReauthField({
  recentlyAuthenticated,
  error,
  autofocus,
  purpose = TWO_FACTOR_PURPOSE,
  id,
}: {
  recentlyAuthenticated: boolean;
  error?: string | undefined;
  /** Focus the field: set when its error is the one to fix first. */
  autofocus?: boolean;
  /** Needed where a page asks for the password in more than one form (ids must be unique). */
  id?: string;
  /** What needs the password, for the hint ("… so {purpose} needs your password"). */
  purpose?: string;
}) {
  if (recentlyAuthenticated && error === undefined) return null;
  return <PasswordField id={id} error={error} autofocus={autofocus} hint={reauthHint(purpose)} />;
}

/** "Your password", asked again to confirm an action on this page; `hint` says why it is asked. */
export function PasswordField(props: { id?: string | undefined; error?: string | undefined; autofocus?: boolean | undefined; hint: string }) {
  return (
    <Field
      name={FIELDS.password}
      id={props.id}
      label={PASSWORD_LABEL}
      type="password"
      autocomplete="current-password"
      error={props.error}
      autofocus={props.autofocus}
      hint={props.hint}
    />
  );
}
