import { useState } from 'preact/hooks';
import type { AccountView, TabContext } from '../background/messages.js';
import { handOverToSecurityKey, send } from './api.js';
import { Field, Header, Icon, Notice } from './components.js';
import { displayOrigin } from './format.js';

export function Unlock(props: {
  tab: TabContext;
  notice?: string | undefined;
  /** A warning the screen opens with (an older vault copy ended the session): announced and focused. */
  alert?: string | undefined;
  onUnlocked: (notice: string | undefined, alert: string | undefined, accounts: AccountView[]) => void;
  /** "Forgot passphrase?": the screen that explains what is left and offers to erase the vault. */
  onForgot: () => void;
}) {
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [keyError, setKeyError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function useSecurityKey() {
    if (props.tab.tabId === null) return;
    setKeyError((await handOverToSecurityKey(props.tab.tabId)) ?? null);
  }

  async function submit(event: Event) {
    event.preventDefault();
    if (busy || passphrase === '') return;
    setBusy(true);
    setError(null);
    const result = await send({ type: 'unlock', passphrase });
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      setPassphrase('');
      return;
    }
    props.onUnlocked(
      result.restoredFromPrevious && !result.rollback ? 'The latest change to your vault was damaged; Latchkey restored the version before it.' : undefined,
      result.rollback ?? undefined,
      result.accounts,
    );
  }

  return (
    <main class="screen">
      <Header title="Latchkey" />
      <form class="stack stack-center" onSubmit={submit}>
        <div class="lock-illustration" aria-hidden="true">
          <svg viewBox="0 0 48 48" aria-hidden="true">
            <rect x="10" y="21" width="28" height="21" rx="5" />
            <path d="M16 21v-5a8 8 0 0 1 16 0v5" />
            <circle cx="24" cy="31" r="2.5" />
          </svg>
        </div>
        <p class="lead">Your vault is locked.</p>
        {props.alert ? <Notice kind="error">{props.alert}</Notice> : null}
        {props.notice ? <Notice kind="info">{props.notice}</Notice> : null}
        <Field label="Passphrase" error={error}>
          {(id, describedBy) => (
            <input
              id={id}
              type="password"
              autoComplete="current-password"
              autoFocus
              value={passphrase}
              aria-describedby={describedBy}
              aria-invalid={error ? 'true' : undefined}
              onInput={(e) => setPassphrase(e.currentTarget.value)}
            />
          )}
        </Field>
        <button type="submit" class="button button-primary button-wide" disabled={busy || passphrase === ''}>
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          {busy ? 'Unlocking…' : 'Unlock'}
        </button>
        <button type="button" class="button button-quiet" onClick={props.onForgot}>
          Forgot passphrase?
        </button>
      </form>
      {props.tab.hasSecurityKey ? (
        // A security key needs no vault: the fallback stays one click away while locked — on the index
        // origins and the sites of the vault's accounts only (the background decides), named here.
        <div class="stack stack-center">
          <p class="muted">
            <strong>{props.tab.origin ? displayOrigin(props.tab.origin) : 'This page'}</strong> also accepts your security key.
          </p>
          {keyError ? <Notice kind="error">{keyError}</Notice> : null}
          <button type="button" class="button button-secondary button-wide" onClick={useSecurityKey}>
            <Icon name="key" /> Use security key
          </button>
        </div>
      ) : null}
    </main>
  );
}
