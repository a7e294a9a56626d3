import { useState } from 'preact/hooks';
import type { AccountInput, TabContext } from '../background/messages.js';
import { send } from './api.js';
import { Field, Header, Icon, Notice } from './components.js';
import { requestSiteAccess } from './site-access.js';

type Mode = 'scan' | 'paste' | 'manual';

const DEFAULT_ORIGIN = 'https://pypi.org';

/** Issuer and name from an otpauth URI for the preview (the secret is never shown). */
function previewUri(uri: string): string | null {
  try {
    const url = new URL(uri);
    const label = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
    const issuer = url.searchParams.get('issuer') ?? (label.includes(':') ? label.split(':')[0] : '');
    const name = label.includes(':') ? label.slice(label.indexOf(':') + 1) : label;
    return issuer ? `${issuer} — ${name.trim()}` : name.trim();
  } catch {
    return null;
  }
}

export function AddAccount(props: { tab: TabContext; onDone: (notice?: string) => void; onLocked: () => void }) {
  const [mode, setMode] = useState<Mode>('scan');
  const [uri, setUri] = useState('');
  const [issuer, setIssuer] = useState('');
  const [label, setLabel] = useState('');
  const [secret, setSecret] = useState('');
  const [origin, setOrigin] = useState(props.tab.origin ?? DEFAULT_ORIGIN);
  const [error, setError] = useState<string | null>(null);
  const [scanState, setScanState] = useState<'idle' | 'scanning' | 'found' | 'none'>('idle');
  const [busy, setBusy] = useState(false);

  async function scan() {
    setScanState('scanning');
    setError(null);
    try {
      const { scanVisibleTab } = await import('./qr-scan.js');
      const text = await scanVisibleTab();
      if (text === null) return setScanState('none');
      if (!/^otpauth:\/\//i.test(text)) {
        setScanState('none');
        return setError('Found a QR code, but it is not a two-factor (otpauth://) code.');
      }
      setUri(text);
      setScanState('found');
    } catch (e) {
      setScanState('idle');
      setError(`Could not capture this tab: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    // First, while the click still counts as a user gesture: ask for the site if it needs asking.
    const access = requestSiteAccess(origin);
    const account: AccountInput =
      mode === 'manual' ? { issuer, label, secret, origin } : { uri, origin };
    setBusy(true);
    setError(null);
    void (async () => {
      const result = await send({ type: 'add-account', account });
      const granted = await access;
      setBusy(false);
      if (!result.ok) {
        if (result.code === 'locked') return props.onLocked();
        return setError(result.error);
      }
      const name = result.account.issuer ? `${result.account.issuer} (${result.account.label})` : result.account.label;
      props.onDone(granted ? `Added ${name}.` : `Added ${name}. Latchkey may fill on that site only when you open it from the page.`);
    })();
  }

  const preview = uri ? previewUri(uri) : null;
  const canSave = mode === 'manual' ? label.trim() !== '' && secret.trim() !== '' : uri.trim() !== '';

  return (
    <main class="screen">
      <Header title="Add account" onBack={() => props.onDone()} />
      <div class="segmented" role="tablist" aria-label="How to add">
        {(
          [
            ['scan', 'Scan QR'],
            ['paste', 'Paste link'],
            ['manual', 'Type it'],
          ] as const
        ).map(([value, text]) => (
          <button
            type="button"
            role="tab"
            aria-selected={mode === value}
            class={mode === value ? 'active' : ''}
            onClick={() => {
              setMode(value);
              setError(null);
            }}
          >
            {text}
          </button>
        ))}
      </div>

      <form class="stack" onSubmit={submit}>
        {mode === 'scan' ? (
          <div class="scan">
            <p class="muted">Open the page that shows the two-factor QR code, then scan it from here.</p>
            <button type="button" class="button button-secondary button-wide" onClick={scan} disabled={scanState === 'scanning'}>
              <Icon name="qr" /> {scanState === 'scanning' ? 'Scanning…' : 'Scan QR code on this tab'}
            </button>
            {scanState === 'none' && !error ? (
              <Notice kind="error">No QR code found on this page. Scroll it into view, or paste the link instead.</Notice>
            ) : null}
            {scanState === 'found' ? (
              <Notice kind="success">
                Found <strong>{preview ?? 'an account'}</strong>.
              </Notice>
            ) : null}
          </div>
        ) : null}

        {mode === 'paste' ? (
          <Field label="otpauth:// link" hint="The link behind the QR code, e.g. from “Can’t scan the code?”">
            {(id, describedBy) => (
              <textarea
                id={id}
                rows={3}
                spellcheck={false}
                autoFocus
                value={uri}
                aria-describedby={describedBy}
                onInput={(e) => setUri(e.currentTarget.value)}
              />
            )}
          </Field>
        ) : null}

        {mode === 'manual' ? (
          <>
            <Field label="Issuer" hint="Who the account is with, e.g. PyPI.">
              {(id, describedBy) => (
                <input id={id} autoFocus value={issuer} aria-describedby={describedBy} onInput={(e) => setIssuer(e.currentTarget.value)} />
              )}
            </Field>
            <Field label="Account name">
              {(id) => <input id={id} value={label} autoComplete="username" onInput={(e) => setLabel(e.currentTarget.value)} />}
            </Field>
            <Field label="Secret key" hint="Base32: letters A–Z and digits 2–7; spaces are fine.">
              {(id, describedBy) => (
                <input
                  id={id}
                  value={secret}
                  spellcheck={false}
                  autoComplete="off"
                  class="mono"
                  aria-describedby={describedBy}
                  onInput={(e) => setSecret(e.currentTarget.value)}
                />
              )}
            </Field>
          </>
        ) : null}

        {mode !== 'scan' || scanState === 'found' ? (
          <>
            <Field label="Fills on" hint="The exact site (scheme, host and port) this code may be filled into.">
              {(id, describedBy) => (
                <input id={id} value={origin} spellcheck={false} class="mono" aria-describedby={describedBy} onInput={(e) => setOrigin(e.currentTarget.value)} />
              )}
            </Field>
            {error ? <Notice kind="error">{error}</Notice> : null}
            <button type="submit" class="button button-primary button-wide" disabled={busy || !canSave}>
              {busy ? 'Saving…' : 'Save account'}
            </button>
          </>
        ) : error ? (
          <Notice kind="error">{error}</Notice>
        ) : null}
      </form>
    </main>
  );
}
