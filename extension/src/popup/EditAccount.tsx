import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { AccountView } from '../background/messages.js';
import { accountName } from './account-name.js';
import { accountNotice } from './account-notice.js';
import { send } from './api.js';
import { BidiText } from './BidiText.js';
import { Field, Header, Notice } from './components.js';
import { checkFillOrigin, type InputProblem } from './check-account-input.js';
import { FillsOnField } from './FillsOnField.js';
import { hasSiteAccess } from './has-site-access.js';
import { SiteAccessStep } from './SiteAccessStep.js';

export function EditAccount(props: { account: AccountView; onDone: (notice?: string) => void; onLocked: () => void }) {
  const { account } = props;
  const [issuer, setIssuer] = useState(account.issuer);
  const [label, setLabel] = useState(account.label);
  const [origin, setOrigin] = useState(account.origin);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [problem, setProblem] = useState<InputProblem | null>(null);
  const [busy, setBusy] = useState(false);
  /** Saves tried: each failed one takes the focus to its field again (Field), even with the same message. */
  const [attempt, setAttempt] = useState(0);
  /** Saved with a new site the extension has no access to yet. */
  const [savedFor, setSavedFor] = useState<string | null>(null);
  const saveButton = useRef<HTMLButtonElement>(null);
  /** The confirmation's least destructive action, which takes the focus when it opens (WAI-ARIA APG, alert dialog). */
  const cancelButton = useRef<HTMLButtonElement>(null);
  const confirmText = useId();
  const askButton = useRef<HTMLButtonElement>(null);
  const asked = useRef(false);
  // The confirmation takes focus when it opens — on Cancel, not on "Delete account", so Enter, Enter cannot delete
  // the account (review) — and gives it back to the button that opened it.
  useEffect(() => {
    if (confirmDelete) cancelButton.current?.focus();
    else if (asked.current) askButton.current?.focus();
    asked.current ||= confirmDelete;
  }, [confirmDelete]);
  const name = accountName(account);

  function save(event: Event) {
    event.preventDefault();
    if (busy) return;
    setError(null);
    setAttempt((n) => n + 1);
    // As in the add form: a wrong name or address is reported at once, on its field.
    const found: InputProblem | null =
      label.trim() === '' ? { field: 'label', message: 'Enter the account name (your user name on the site).' } : checkFillOrigin(origin);
    setProblem(found);
    if (found) return;
    setBusy(true);
    void (async () => {
      const result = await send({ type: 'update-account', id: account.id, issuer, label, origin });
      if (!result.ok) {
        setBusy(false);
        return result.code === 'locked' ? props.onLocked() : setError(result.error);
      }
      // A new site the extension cannot reach yet is offered as a separate click (SiteAccessStep).
      const site = result.account.origin;
      if (site !== account.origin && !(await hasSiteAccess(site))) return setSavedFor(site);
      props.onDone('Saved.');
    })();
  }

  async function remove() {
    const result = await send({ type: 'delete-account', id: account.id });
    if (!result.ok) return result.code === 'locked' ? props.onLocked() : setError(result.error);
    props.onDone(accountNotice('Deleted', account));
  }

  if (savedFor) return <SiteAccessStep title="Edit account" done="Saved." site={savedFor} onDone={props.onDone} />;

  return (
    <main class="screen">
      <Header title="Edit account" onBack={() => props.onDone()} />
      <form class="stack" onSubmit={save}>
        <Field label="Issuer">{(id) => <input id={id} dir="auto" value={issuer} onInput={(e) => setIssuer(e.currentTarget.value)} />}</Field>
        <Field label="Account name" error={problem?.field === 'label' ? problem.message : null} attempt={attempt}>
          {(id, describedBy) => (
            <input
              id={id}
              dir="auto"
              value={label}
              aria-describedby={describedBy}
              aria-invalid={problem?.field === 'label' ? 'true' : undefined}
              onInput={(e) => setLabel(e.currentTarget.value)}
            />
          )}
        </Field>
        <FillsOnField value={origin} onInput={setOrigin} problem={problem} onAnswered={() => setProblem(null)} next={saveButton} attempt={attempt} />
        {error ? <Notice kind="error">{error}</Notice> : null}
        <button ref={saveButton} type="submit" class="button button-primary button-wide" disabled={busy}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
      </form>
      <section class="danger-zone" aria-label="Delete account">
        {confirmDelete ? (
          <div
            class="confirm"
            role="alertdialog"
            aria-label="Confirm delete"
            aria-describedby={confirmText}
            onKeyDown={(event) => {
              if (event.key !== 'Escape') return;
              // As Cancel: only the confirmation closes (the screen's own Escape would drop the edits too).
              event.preventDefault();
              setConfirmDelete(false);
            }}
          >
            <p id={confirmText}>
              Delete{' '}
              <strong>
                <BidiText text={name} />
              </strong>
              ? Without its secret you cannot produce codes for this account any more — make sure you have another way in (recovery codes or a security key).
            </p>
            <div class="row">
              <button type="button" class="button button-danger" onClick={remove}>
                Delete account
              </button>
              <button ref={cancelButton} type="button" class="button button-secondary" onClick={() => setConfirmDelete(false)}>
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
