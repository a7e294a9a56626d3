import { useEffect, useRef, useState } from 'preact/hooks';
import type { AccountView } from '../background/messages.js';
import { send } from './api.js';
import { Field, Header, Notice } from './components.js';
import { checkFillOrigin } from './check-account-input.js';
import { requestSiteAccess } from './site-access.js';

export function EditAccount(props: { account: AccountView; onDone: (notice?: string) => void; onLocked: () => void }) {
  const { account } = props;
  const [issuer, setIssuer] = useState(account.issuer);
  const [label, setLabel] = useState(account.label);
  const [origin, setOrigin] = useState(account.origin);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const askButton = useRef<HTMLButtonElement>(null);
  const asked = useRef(false);
  // The confirmation takes focus when it opens, and gives it back to the button that opened it.
  useEffect(() => {
    if (confirmDelete) confirmButton.current?.focus();
    else if (asked.current) askButton.current?.focus();
    asked.current ||= confirmDelete;
  }, [confirmDelete]);
  const name = account.issuer ? `${account.issuer} (${account.label})` : account.label;

  function save(event: Event) {
    event.preventDefault();
    // As in the add form: a wrong address is reported at once, before any permission prompt, and the
    // prompt's answer never holds up the result.
    const problem = checkFillOrigin(origin);
    if (problem) return setError(problem.message);
    if (origin !== account.origin) void requestSiteAccess(origin);
    void (async () => {
      const result = await send({ type: 'update-account', id: account.id, issuer, label, origin });
      if (!result.ok) return result.code === 'locked' ? props.onLocked() : setError(result.error);
      props.onDone('Saved.');
    })();
  }

  async function remove() {
    const result = await send({ type: 'delete-account', id: account.id });
    if (!result.ok) return result.code === 'locked' ? props.onLocked() : setError(result.error);
    props.onDone(`Deleted ${name}.`);
  }

  return (
    <main class="screen">
      <Header title="Edit account" onBack={() => props.onDone()} />
      <form class="stack" onSubmit={save}>
        <Field label="Issuer">{(id) => <input id={id} value={issuer} onInput={(e) => setIssuer(e.currentTarget.value)} />}</Field>
        <Field label="Account name">{(id) => <input id={id} value={label} onInput={(e) => setLabel(e.currentTarget.value)} />}</Field>
        <Field label="Fills on" hint="The exact site (scheme, host and port) this code may be filled into.">
          {(id, describedBy) => (
            <input id={id} class="mono" spellcheck={false} value={origin} aria-describedby={describedBy} onInput={(e) => setOrigin(e.currentTarget.value)} />
          )}
        </Field>
        {error ? <Notice kind="error">{error}</Notice> : null}
        <button type="submit" class="button button-primary button-wide">
          Save changes
        </button>
      </form>
      <section class="danger-zone" aria-label="Delete account">
        {confirmDelete ? (
          <div class="confirm" role="alertdialog" aria-label="Confirm delete">
            <p>
              Delete <strong>{name}</strong>? Without its secret you cannot produce codes for this account any more — make sure you have another way in
              (recovery codes or a security key).
            </p>
            <div class="row">
              <button ref={confirmButton} type="button" class="button button-danger" onClick={remove}>
                Delete account
              </button>
              <button type="button" class="button button-secondary" onClick={() => setConfirmDelete(false)}>
                Cancel
              </button>
            </div>
          </div>
        ) : (
          <button ref={askButton} type="button" class="button button-danger-quiet" onClick={() => setConfirmDelete(true)}>
            Delete this account…
          </button>
        )}
      </section>
    </main>
  );
}
