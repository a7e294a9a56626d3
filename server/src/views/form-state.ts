/** What a form page needs to re-render after a failed post: the values to keep and the errors to show. */
export interface FormState {
  values?: Record<string, string>;
  /** Messages for the form as a whole (shown in the error summary). */
  errors?: string[];
  /** Messages for single fields, by field name. */
  fieldErrors?: Record<string, string>;
}

export function allErrors(state: FormState): string[] {
  return [...(state.errors ?? []), ...Object.values(state.fieldErrors ?? {})];
}

/** The first of `names` (in the form's order) that has an error: the field that gets focus on re-render. */
export function firstInvalid(state: FormState, names: readonly string[]): string | undefined {
  return names.find((name) => state.fieldErrors?.[name] !== undefined);
}
