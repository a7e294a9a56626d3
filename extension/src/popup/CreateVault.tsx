import { useState } from 'preact/hooks';
import { send } from './api.js';
import { Field, Header, LiveStatus } from './components.js';
import { passphraseStrength, useCommonPasswords } from './strength.js';

export function CreateVault(props: {
  /** Said above the form (after an erase: what just happened). */
  notice?: string | undefined;
  onCreated: () => void;
}) {
  const [passphrase, setPassphrase] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const common = useCommonPasswords();
  const strength = passphraseStrength(passphrase, common ?? undefined);
  const mismatch = confirmation !== '' && confirmation !== passphrase;

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    if (passphrase !== confirmation) return setError('The two passphrases are not the same.');
    setBusy(true);
    setError(null);
    const result = await send({ type: 'create', passphrase });
    setBusy(false);
    if (!result.ok) return setError(result.error);
    props.onCreated();
  }

  return (
    <main class="screen">
      <Header title="Set up Latchkey" />
      <form class="stack" onSubmit={submit}>
        {/* "The vault was erased.": in a live region that is there first, or it is shown but not read (QA). */}
        <LiveStatus kind="success" text={props.notice ?? null} />
        <p class="lead">
          Choose a passphrase for your vault. It encrypts your two-factor secrets on this computer and cannot be recovered — if you forget it, the vault is
          lost.
        </p>
        <Field
          label="Passphrase"
          hint={
            <span class="strength" data-level={strength.level}>
              <span class="strength-bar" aria-hidden="true">
                <span />
                <span />
                <span />
              </span>
              {strength.text}
            </span>
          }
        >
          {(id, describedBy) => (
            <input
              id={id}
              type="password"
              autoComplete="new-password"
              autoFocus
              value={passphrase}
              aria-describedby={describedBy}
              onInput={(e) => setPassphrase(e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label="Confirm passphrase" error={error} invalid={mismatch ? 'Does not match the passphrase above.' : null}>
          {(id, describedBy) => (
            <input
              id={id}
              type="password"
              autoComplete="new-password"
              value={confirmation}
              aria-describedby={describedBy}
              aria-invalid={mismatch ? 'true' : undefined}
              onInput={(e) => setConfirmation(e.currentTarget.value)}
            />
          )}
        </Field>
        <button
          type="submit"
          class="button button-primary button-wide"
          disabled={busy || common === null || strength.level === 0 || passphrase !== confirmation}
        >
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          {busy ? 'Creating vault…' : 'Create vault'}
        </button>
      </form>
    </main>
  );
}
