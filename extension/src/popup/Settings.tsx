import { useEffect, useRef, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { isolate } from '../background/isolate.js';
import type { BackupStatus, ImportReport, TabContext } from '../background/messages.js';
import { MAX_IMPORT_TEXT } from '../background/request-shape.js';
import { backupFileKind } from '../vault/backup-file-kind.js';
import type { VaultSettings } from '../vault/payload.js';
import { send } from './api.js';
import { Field, Header, Notice, ResultMessage } from './components.js';
import { BackupInTab } from './BackupInTab.js';
import { describeBackup } from './describe-backup.js';
import { ImportSummary } from './ImportSummary.js';
import { fileDialogNeedsTab, settingsTabUrl } from './page-view.js';
import { passphraseStrength, useCommonPasswords } from './strength.js';
import { useTabSite } from './use-tab-site.js';

type Status = { kind: 'error' | 'success'; text: string } | null;

export function Settings(props: {
  tab: TabContext;
  /**
   * The tab Firefox's popup opened for an export or an import (page-view.ts): the focus goes to the Backup card once
   * it is there, not left on the page's heading two cards above the file field (review).
   */
  focusBackup?: boolean;
  onDone: (notice?: string) => void;
  onLocked: () => void;
}) {
  const [settings, setSettings] = useState<VaultSettings | null>(null);
  const [backup, setBackup] = useState<BackupStatus | null>(null);
  const [minutes, setMinutes] = useState('15');
  const [status, setStatus] = useState<Status>(null);
  const focusedBackup = useRef(false);

  // Once, when the card is there (it loads after the screen took the focus on its heading), and only while the focus
  // is still where the screen change put it: someone who tabbed on meanwhile keeps their place.
  useEffect(() => {
    if (!props.focusBackup || !backup || focusedBackup.current) return;
    focusedBackup.current = true;
    const active = document.activeElement;
    if (active !== null && active !== document.body && !active.matches('main h1')) return;
    const heading = document.getElementById('backup-heading');
    heading?.focus({ preventScroll: true });
    heading?.scrollIntoView({ block: 'start' });
  }, [backup]);

  useEffect(() => {
    void send({ type: 'codes' }).then((result) => {
      if (!result.ok) return result.code === 'locked' ? props.onLocked() : setStatus({ kind: 'error', text: result.error });
      setSettings(result.settings);
      setBackup(result.backup);
      setMinutes(String(result.settings.autoLockMinutes));
    });
  }, []);

  async function saveSettings(next: VaultSettings) {
    const result = await send({ type: 'save-settings', settings: next });
    if (!result.ok) return result.code === 'locked' ? props.onLocked() : setStatus({ kind: 'error', text: result.error });
    setSettings(result.settings);
    setStatus({ kind: 'success', text: 'Settings saved.' });
  }

  return (
    <main class="screen">
      <Header title="Settings" onBack={() => props.onDone()} />
      {settings ? (
        <div class="stack">
          <section class="card" aria-labelledby="security-heading">
            <h2 id="security-heading">Security</h2>
            <form
              class="row row-end"
              onSubmit={(e) => {
                e.preventDefault();
                void saveSettings({ ...settings, autoLockMinutes: Number(minutes) });
              }}
            >
              <Field label="Lock after (minutes unused)">
                {(id) => (
                  <input
                    id={id}
                    type="number"
                    min={1}
                    max={1440}
                    step={1}
                    required
                    value={minutes}
                    onInput={(e) => {
                      setMinutes(e.currentTarget.value);
                      // "Settings saved." beside a value typed since (and perhaps refused) would say it was kept.
                      setStatus(null);
                    }}
                  />
                )}
              </Field>
              <button type="submit" class="button button-secondary">
                Save
              </button>
            </form>
            <label class="checkbox">
              <input type="checkbox" checked={settings.autoSubmit} onChange={(e) => void saveSettings({ ...settings, autoSubmit: e.currentTarget.checked })} />
              Submit the form after filling a code
            </label>
            <ResultMessage result={status} />
          </section>
          <ChangePassphrase onLocked={props.onLocked} />
          {backup ? <Backup tab={props.tab} backup={backup} onBackup={setBackup} onLocked={props.onLocked} /> : null}
        </div>
      ) : status ? (
        <Notice kind={status.kind}>{status.text}</Notice>
      ) : null}
    </main>
  );
}

function ChangePassphrase(props: { onLocked: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<Status>(null);
  /** A refusal of the new passphrase itself, shown on its field. */
  const [nextProblem, setNextProblem] = useState<string | null>(null);
  /** Submits so far: each refused one takes the focus to the field again (Field), even with the same message. */
  const [attempt, setAttempt] = useState(0);
  const common = useCommonPasswords();
  const strength = passphraseStrength(next, common ?? undefined);
  const mismatch = confirmation !== '' && confirmation !== next;

  /** A field edited: an earlier refusal or result is about values no longer there (it stayed beside the next problem: review). */
  function edited(set: (value: string) => void, value: string) {
    set(value);
    setStatus(null);
    setNextProblem(null);
  }

  async function submit(event: Event) {
    event.preventDefault();
    // Each submit reports alone.
    setStatus(null);
    setNextProblem(null);
    setAttempt((n) => n + 1);
    if (next !== confirmation) return setStatus({ kind: 'error', text: 'The new passphrases are not the same.' });
    // Re-encrypting under the same passphrase would say "Passphrase changed" and change nothing (review).
    if (next === current) return setNextProblem('The new passphrase is the same as the current one. Choose another.');
    setBusy(true);
    const result = await send({ type: 'change-passphrase', current, next });
    setBusy(false);
    if (!result.ok) return result.code === 'locked' ? props.onLocked() : setStatus({ kind: 'error', text: result.error });
    setCurrent('');
    setNext('');
    setConfirmation('');
    setStatus({ kind: 'success', text: 'Passphrase changed. Backups exported before now still open with the old one.' });
  }

  return (
    <section class="card" aria-labelledby="passphrase-heading">
      <h2 id="passphrase-heading">Change passphrase</h2>
      <form class="stack" onSubmit={submit}>
        <Field label="Current passphrase">
          {(id) => <input id={id} type="password" autoComplete="current-password" value={current} onInput={(e) => edited(setCurrent, e.currentTarget.value)} />}
        </Field>
        <Field label="New passphrase" hint={strength.text} error={nextProblem} attempt={attempt}>
          {(id, d) => (
            <input
              id={id}
              type="password"
              autoComplete="new-password"
              aria-describedby={d}
              aria-invalid={nextProblem ? 'true' : undefined}
              value={next}
              onInput={(e) => edited(setNext, e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label="Confirm new passphrase" invalid={mismatch ? 'Does not match the new passphrase above.' : null}>
          {(id, d) => (
            <input
              id={id}
              type="password"
              autoComplete="new-password"
              aria-describedby={d}
              aria-invalid={mismatch ? 'true' : undefined}
              value={confirmation}
              onInput={(e) => edited(setConfirmation, e.currentTarget.value)}
            />
          )}
        </Field>
        {/* The button is disabled while re-encrypting, which drops its focus to <body>: the result takes it. */}
        {status ? (
          <Notice kind={status.kind} focus>
            {status.text}
          </Notice>
        ) : null}
        <button
          type="submit"
          class="button button-secondary"
          disabled={busy || common === null || current === '' || strength.level === 0 || next !== confirmation}
        >
          {busy ? 'Re-encrypting…' : 'Change passphrase'}
        </button>
      </form>
    </section>
  );
}

function Backup(props: { tab: TabContext; backup: BackupStatus; onBackup: (status: BackupStatus) => void; onLocked: () => void }) {
  const [fileText, setFileText] = useState<string | null>(null);
  const [fileName, setFileName] = useState('');
  const [passphrase, setPassphrase] = useState('');
  /**
   * What the chosen file is (the background judges it with the same function): a backup asks for its
   * passphrase, links for the site they fill on, a damaged or foreign file for neither.
   */
  const [fileKind, setFileKind] = useState<ReturnType<typeof backupFileKind> | null>(null);
  const [origin, setOrigin] = useTabSite(props.tab.origin, 'https://pypi.org');
  const [status, setStatus] = useState<Status>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [importing, setImporting] = useState(false);

  async function exportBackup() {
    setReport(null);
    setStatus(null);
    const result = await send({ type: 'export' });
    if (!result.ok) return result.code === 'locked' ? props.onLocked() : setStatus({ kind: 'error', text: result.error });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([result.text], { type: 'application/json' }));
    link.download = result.filename;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    props.onBackup(result.backup);
    setStatus({ kind: 'success', text: `Saved ${result.filename}. It opens only with your current passphrase.` });
  }

  async function chooseFile(file: File | undefined) {
    setReport(null);
    setStatus(null);
    if (!file) return setFileText(null);
    // In bytes, so its text is never longer than the background accepts (UTF-8 has at least a byte a character).
    if (file.size > MAX_IMPORT_TEXT) return setStatus({ kind: 'error', text: 'That file is too large to be a backup.' });
    const text = await file.text();
    setFileText(text);
    setFileName(file.name);
    // Only a real backup asks for a passphrase; a damaged or foreign file is refused by the import itself.
    setFileKind(backupFileKind(text));
  }

  async function runImport(event: Event) {
    event.preventDefault();
    if (fileText === null || importing) return;
    // Each run reports alone: an earlier refusal next to this run's result would contradict it.
    setStatus(null);
    setReport(null);
    setImporting(true);
    const result = await send({ type: 'import', text: fileText, origin, ...(passphrase ? { passphrase } : {}) });
    setImporting(false);
    if (!result.ok) {
      if (result.code === 'locked') return props.onLocked();
      return setStatus({ kind: 'error', text: result.error });
    }
    setPassphrase('');
    setReport(result);
    // Accounts added by the import are in no backup of this vault yet: the card's line says so.
    props.onBackup(result.backup);
  }

  return (
    <section class="card" aria-labelledby="backup-heading">
      <h2 id="backup-heading" tabIndex={-1}>
        Backup
      </h2>
      <p class={props.backup.accountsSince > 0 ? 'backup-due' : 'muted'}>{describeBackup(props.backup)}</p>
      {/* One decision for export and import: Firefox's popup offers both in a tab, where they work as here. */}
      {fileDialogNeedsTab(location.href) ? (
        <BackupInTab openTab={openSettingsTab} />
      ) : (
        <>
          <button type="button" class="button button-secondary" onClick={exportBackup}>
            Export encrypted backup
          </button>
          <form class="stack" onSubmit={runImport}>
            <Field label="Import a backup or otpauth:// links (one per line)">
              {(id) => (
                <input id={id} type="file" accept=".json,.txt,application/json,text/plain" onChange={(e) => void chooseFile(e.currentTarget.files?.[0])} />
              )}
            </Field>
            {fileText !== null && fileKind === 'backup' ? (
              <Field label={`Passphrase of ${isolate(fileName)}`}>
                {(id) => <input id={id} type="password" autoComplete="off" value={passphrase} onInput={(e) => setPassphrase(e.currentTarget.value)} />}
              </Field>
            ) : null}
            {fileText !== null && fileKind === 'lines' ? (
              <Field label="Imported links fill on" hint="Exact site for the imported accounts; edit each one later if needed.">
                {(id, d) => <input id={id} class="mono" aria-describedby={d} value={origin} onInput={(e) => setOrigin(e.currentTarget.value)} />}
              </Field>
            ) : null}
            {fileText !== null ? (
              <button type="submit" class="button button-secondary" disabled={importing}>
                {importing ? <span class="spinner" aria-hidden="true" /> : null}
                {importing ? 'Importing…' : 'Import'}
              </button>
            ) : null}
          </form>
        </>
      )}
      <ResultMessage result={status} />
      {report ? <ImportSummary report={report} /> : null}
    </section>
  );
}

/**
 * Firefox's popup sends export and import to this same page as a tab on Settings (BackupInTab). The
 * popup closes itself, as the file dialog would have closed it anyway.
 */
async function openSettingsTab(): Promise<void> {
  await browser.tabs.create({ url: settingsTabUrl(location.href) });
  window.close();
}
