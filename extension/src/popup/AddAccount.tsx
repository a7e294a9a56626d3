import { isMigrationLink, MIGRATION_LINK_MESSAGE } from '@latchkey/shared';
import { useRef, useState } from 'preact/hooks';
import { isolate } from '../background/isolate.js';
import type { AccountInput, TabContext } from '../background/messages.js';
import { accountNotice } from './account-notice.js';
import { send } from './api.js';
import { BidiText } from './BidiText.js';
import { checkAccountInput, type InputProblem, typedFieldOf } from './check-account-input.js';
import { Field, Header, Icon, Notice } from './components.js';
import { describeScanFailure } from './describe-scan-failure.js';
import { hasSiteAccess } from './has-site-access.js';
import { FillsOnField } from './FillsOnField.js';
import { SiteAccessStep } from './SiteAccessStep.js';
import { useTabSite } from './use-tab-site.js';

type Mode = 'scan' | 'paste' | 'manual';

const MODES: ReadonlyArray<readonly [Mode, string]> = [
  ['scan', 'Scan QR'],
  ['paste', 'Paste link'],
  ['manual', 'Type it'],
];

const DEFAULT_ORIGIN = 'https://pypi.org';

/** Issuer and name from an otpauth URI for the preview (the secret is never shown), each isolated. */
function previewUri(uri: string): string | null {
  try {
    const url = new URL(uri);
    const label = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
    const issuer = url.searchParams.get('issuer') ?? (label.includes(':') ? label.split(':')[0] : '');
    const name = label.includes(':') ? label.slice(label.indexOf(':') + 1) : label;
    return issuer ? `${isolate(issuer)} — ${isolate(name.trim())}` : isolate(name.trim());
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
  const [origin, setOrigin] = useTabSite(props.tab.origin, DEFAULT_ORIGIN);
  const [problem, setProblem] = useState<InputProblem | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [scanState, setScanState] = useState<'idle' | 'scanning' | 'found' | 'none'>('idle');
  const [busy, setBusy] = useState(false);
  /** Saves tried: each failed one takes the focus to its field and says the error again, even the same one. */
  const [attempt, setAttempt] = useState(0);
  const tabs = useRef<Array<HTMLButtonElement | null>>([]);
  const saveButton = useRef<HTMLButtonElement>(null);
  /** Saved for a site the extension has no access to yet: offer to ask for it, as a separate step. */
  const [saved, setSaved] = useState<{ done: string; site: string } | null>(null);

  function selectMode(next: Mode) {
    setMode(next);
    setError(null);
    setProblem(null);
  }

  /** WAI-ARIA tabs (automatic activation): arrows move and select, Home/End go to the ends. */
  function onTabKey(event: KeyboardEvent, index: number) {
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: MODES.length - 1 };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const wrapped = (target + MODES.length) % MODES.length;
    selectMode(MODES[wrapped]![0]);
    tabs.current[wrapped]?.focus();
  }

  async function scan() {
    setScanState('scanning');
    setError(null);
    try {
      const { scanVisibleTab } = await import('./qr-scan.js');
      const text = await scanVisibleTab();
      if (text === null) return setScanState('none');
      if (isMigrationLink(text)) {
        setScanState('none');
        return setError(MIGRATION_LINK_MESSAGE);
      }
      if (!/^otpauth:\/\//i.test(text)) {
        setScanState('none');
        return setError('Found a QR code, but it is not a two-factor (otpauth://) code.');
      }
      setUri(text);
      setScanState('found');
    } catch (e) {
      setScanState('idle');
      setError(describeScanFailure(e));
    }
  }

  function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    setError(null);
    setAttempt((n) => n + 1);
    // Validate first, synchronously: a wrong link or address is reported at once.
    const found = checkAccountInput({ mode, uri, label, secret, origin });
    setProblem(found);
    if (found) return;
    const account: AccountInput = mode === 'manual' ? { issuer, label, secret, origin } : { uri, origin };
    setBusy(true);
    void (async () => {
      // The background validates everything and saves; the site-access prompt is a later, separate
      // click (below). Asked for in this click, it closed Chromium's popup before the result could be
      // shown, and a prompt left unanswered (headless Firefox) held the result up for ever.
      const result = await send({ type: 'add-account', account });
      if (!result.ok) {
        setBusy(false);
        if (result.code === 'locked') return props.onLocked();
        // A link or typed field the background's full parser refused: the message belongs on its field.
        if (result.code === 'invalid-input' && mode === 'paste') return setProblem({ field: 'uri', message: result.error });
        if (result.code === 'invalid-input' && mode === 'manual') return setProblem({ field: typedFieldOf(result.error), message: result.error });
        return setError(result.error);
      }
      const done = accountNotice('Added', result.account);
      if (await hasSiteAccess(result.account.origin)) return props.onDone(done);
      setBusy(false);
      setSaved({ done, site: result.account.origin });
    })();
  }

  if (saved) return <SiteAccessStep title="Add account" done={saved.done} site={saved.site} onDone={props.onDone} />;

  const preview = uri ? previewUri(uri) : null;
  const canSave = mode === 'manual' ? label.trim() !== '' && secret.trim() !== '' : uri.trim() !== '';
  const problemOn = (field: InputProblem['field']) => (problem?.field === field ? problem.message : null);
  const invalid = (field: InputProblem['field']) => (problem?.field === field ? 'true' : undefined);

  return (
    <main class="screen">
      <Header title="Add account" onBack={() => props.onDone()} />
      <div class="segmented" role="tablist" aria-label="How to add">
        {MODES.map(([value, text], index) => (
          <button
            type="button"
            role="tab"
            id={`add-tab-${value}`}
            aria-controls="add-panel"
            aria-selected={mode === value}
            tabIndex={mode === value ? 0 : -1}
            class={mode === value ? 'active' : ''}
            ref={(element) => {
              tabs.current[index] = element;
            }}
            onClick={() => selectMode(value)}
            onKeyDown={(event) => onTabKey(event, index)}
          >
            {text}
          </button>
        ))}
      </div>

      <form class="stack" id="add-panel" role="tabpanel" aria-labelledby={`add-tab-${mode}`} onSubmit={submit} noValidate>
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
              // Focused: the scan button was disabled while scanning, which dropped the focus to <body> (QA); from
              // here Tab goes on to "Fills on" and Save, and a screen reader reads what was found.
              <Notice kind="success" focus>
                Found <strong>{preview === null ? 'an account' : <BidiText text={preview} />}</strong>.
              </Notice>
            ) : null}
          </div>
        ) : null}

        {mode === 'paste' ? (
          <Field label="otpauth:// link" hint="The link behind the QR code, e.g. from “Can’t scan the code?”" error={problemOn('uri')} attempt={attempt}>
            {(id, describedBy) => (
              <textarea
                id={id}
                rows={3}
                spellcheck={false}
                value={uri}
                aria-describedby={describedBy}
                aria-invalid={invalid('uri')}
                onInput={(e) => setUri(e.currentTarget.value)}
              />
            )}
          </Field>
        ) : null}

        {mode === 'manual' ? (
          <>
            <Field label="Issuer" hint="Who the account is with, e.g. PyPI.">
              {(id, describedBy) => (
                <input id={id} dir="auto" value={issuer} aria-describedby={describedBy} onInput={(e) => setIssuer(e.currentTarget.value)} />
              )}
            </Field>
            <Field label="Account name" error={problemOn('label')} attempt={attempt}>
              {(id, describedBy) => (
                <input
                  id={id}
                  dir="auto"
                  value={label}
                  autoComplete="username"
                  aria-describedby={describedBy}
                  aria-invalid={invalid('label')}
                  onInput={(e) => setLabel(e.currentTarget.value)}
                />
              )}
            </Field>
            <Field label="Secret key" hint="Base32: letters A–Z and digits 2–7; spaces are fine." error={problemOn('secret')} attempt={attempt}>
              {(id, describedBy) => (
                <input
                  id={id}
                  value={secret}
                  spellcheck={false}
                  autoComplete="off"
                  class="mono"
                  aria-describedby={describedBy}
                  aria-invalid={invalid('secret')}
                  onInput={(e) => setSecret(e.currentTarget.value)}
                />
              )}
            </Field>
          </>
        ) : null}

        {mode !== 'scan' || scanState === 'found' ? (
          <>
            <FillsOnField value={origin} onInput={setOrigin} problem={problem} onAnswered={() => setProblem(null)} next={saveButton} attempt={attempt} />
            {error ? <Notice kind="error">{error}</Notice> : null}
            <button ref={saveButton} type="submit" class="button button-primary button-wide" disabled={busy || !canSave}>
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
