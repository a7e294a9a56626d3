import { useState } from 'preact/hooks';
import { confirmsErase, ERASE_CONFIRMATION } from '../background/messages.js';
import { send } from './api.js';
import { Field, Header, Notice } from './components.js';

/**
 * The way out of a forgotten passphrase: nothing can recover it (the vault is encrypted under it and it is
 * stored nowhere), so the screen says what still works — other ways into the accounts, a backup — before
 * offering to erase. Typing the word is the confirmation; the background checks it again.
 */
export function EraseVault(props: { onBack: () => void; onErased: () => void }) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const confirmed = confirmsErase(typed);

  async function submit(event: Event) {
    event.preventDefault();
    if (busy || !confirmed) return;
    setBusy(true);
    setError(null);
    const result = await send({ type: 'erase-vault', confirm: typed });
    setBusy(false);
    if (!result.ok) return setError(result.error);
    props.onErased();
  }

  return (
    <main class="screen">
      <Header title="Forgot your passphrase?" onBack={props.onBack} />
      <form class="stack" onSubmit={submit}>
        <p>
          Latchkey cannot recover it: your vault is encrypted with the passphrase, and the passphrase is kept nowhere. A wrong try changes nothing, so you can
          keep trying.
        </p>
        <p>If it is lost, you can erase the vault and start again:</p>
        <ul class="plain-list">
          <li>Log in to your accounts meanwhile with a security key or a recovery code, then set up two-factor authentication again.</li>
          <li>If you exported a backup, import it into the new vault; it needs the passphrase you gave the backup.</li>
        </ul>
        <Field label={`Type "${ERASE_CONFIRMATION}" to erase the vault and every account in it`} error={error}>
          {(id, describedBy) => (
            <input
              id={id}
              type="text"
              autoComplete="off"
              autoCapitalize="off"
              spellcheck={false}
              value={typed}
              aria-describedby={describedBy}
              aria-invalid={error ? 'true' : undefined}
              onInput={(e) => setTyped(e.currentTarget.value)}
            />
          )}
        </Field>
        {busy ? <Notice kind="info">Erasing…</Notice> : null}
        <div class="row">
          <button type="submit" class="button button-danger" disabled={busy || !confirmed}>
            Erase vault
          </button>
          <button type="button" class="button button-secondary" onClick={props.onBack}>
            Cancel
          </button>
        </div>
      </form>
    </main>
  );
}
