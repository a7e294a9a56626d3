import { useState } from 'preact/hooks';
import { Notice } from './components.js';

/**
 * The Backup card's actions in Firefox's toolbar popup, which a file dialog closes (page-view.ts): the
 * import's file picker loses the file, and with "Always ask you where to save files" the export's save
 * dialog takes the popup's `blob:` URL with it, so the download fails. Both are therefore offered in a
 * tab of Settings, and both buttons open the same tab (`openTab`): one way for export and import, the
 * tab then exporting and importing as Chromium's popup does.
 */
export function BackupInTab(props: { openTab: () => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  async function open() {
    setError(null);
    try {
      await props.openTab();
    } catch (e) {
      setError(`Could not open a tab: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return (
    <div class="stack">
      <p class="muted">Firefox closes this popup when a file dialog opens, so export and import open in a tab.</p>
      <button type="button" class="button button-secondary" onClick={open}>
        Export in a tab…
      </button>
      <button type="button" class="button button-secondary" onClick={open}>
        Import in a tab…
      </button>
      {error ? <Notice kind="error">{error}</Notice> : null}
    </div>
  );
}
