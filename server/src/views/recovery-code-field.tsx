/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS } from '@latchkey/shared';
import type { FormState } from './form-state.js';
import { Field } from './layout.js';

/**
 * The one field a recovery code is typed into — at login and when confirming a new set was saved — so the
 * format hint and the input's limits are said the same way wherever a code is asked for.
 */
export function RecoveryCodeField({ label, form }: { label: string; form: FormState }) {
  return (
    <Field
      name={FIELDS.recoveryCodeValue}
      label={label}
      hint="16 characters, digits and letters a–f. Spaces and dashes are ignored."
      error={form.fieldErrors?.[FIELDS.recoveryCodeValue]}
      autocomplete="off"
      spellcheck={false}
      maxLength={64}
      autofocus
    />
  );
}
