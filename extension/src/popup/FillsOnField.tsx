import type { RefObject } from 'preact';
import { Field } from './components.js';
import type { InputProblem } from './check-account-input.js';

/**
 * The "Fills on" field of the add and edit forms: the exact origin a code may be filled into, its
 * problem on the field, and — when the address was ambiguous (`pypi.org`, no scheme) — a button to
 * accept the suggested origin rather than a silent guess.
 */
export function FillsOnField(props: {
  value: string;
  onInput: (value: string) => void;
  /** The form's current problem; shown here only when it is about the origin. */
  problem: InputProblem | null;
  /** The suggestion was taken: the form's problem is answered. */
  onAnswered: () => void;
  /** Where focus goes then: Save, the next step. */
  next: RefObject<HTMLButtonElement>;
  /** The form's submits so far (Field: each failed one takes the focus to the field again). */
  attempt?: number;
}) {
  const problem = props.problem?.field === 'origin' ? props.problem : null;
  function useSuggestion(suggestion: string) {
    props.onInput(suggestion);
    props.onAnswered();
    props.next.current?.focus();
  }
  return (
    <>
      <Field
        label="Fills on"
        hint="The exact site (scheme, host and port) this code may be filled into."
        error={problem?.message ?? null}
        attempt={props.attempt}
      >
        {(id, describedBy) => (
          <input
            id={id}
            value={props.value}
            spellcheck={false}
            class="mono"
            aria-describedby={describedBy}
            aria-invalid={problem ? 'true' : undefined}
            onInput={(e) => props.onInput(e.currentTarget.value)}
          />
        )}
      </Field>
      {problem?.suggestion ? (
        <button type="button" class="button button-secondary" onClick={() => useSuggestion(problem.suggestion ?? props.value)}>
          Use {problem.suggestion}
        </button>
      ) : null}
    </>
  );
}
