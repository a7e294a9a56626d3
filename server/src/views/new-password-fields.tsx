/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS } from '@latchkey/shared';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../services/accounts.js';
import { Field } from './layout.js';

/** "New password" twice, for every form that sets one (change, reset). `autofocusField` gets the focus (the first error). */
export function NewPasswordFields({ errors, autofocusField }: { errors: Record<string, string>; autofocusField?: string | undefined }) {
  return (
    <>
      <Field
        name={FIELDS.newPassword}
        label="New password"
        type="password"
        error={errors[FIELDS.newPassword]}
        autocomplete="new-password"
        minLength={PASSWORD_MIN_LENGTH}
        maxLength={PASSWORD_MAX_LENGTH}
        autofocus={autofocusField === FIELDS.newPassword}
        hint={`At least ${PASSWORD_MIN_LENGTH} characters, not containing your username. A passphrase of several words is easy to remember and hard to guess.`}
      />
      <Field
        name={FIELDS.passwordConfirm}
        label="Confirm new password"
        type="password"
        error={errors[FIELDS.passwordConfirm]}
        autocomplete="new-password"
        maxLength={PASSWORD_MAX_LENGTH}
        autofocus={autofocusField === FIELDS.passwordConfirm}
      />
    </>
  );
}

/** The field to focus: the first one (in `order`) with an error, else the first one (WCAG 3.3.1: errors are found at once). */
export function firstErrorField(order: string[], errors: Record<string, string>): string | undefined {
  return order.find((name) => errors[name]) ?? order[0];
}
