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
