/**
 * Where the popup's document is shown. Firefox closes an extension's toolbar popup as soon as a file
 * dialog takes the focus (Mozilla bug 1292701, open since 2016; Chromium keeps its popup open). For an
 * import the chosen file never reaches the popup; for an export with "Always ask you where to save
 * files" the save dialog closes the popup, its `blob:` URL dies with it and the download fails. In
 * Firefox the Backup card therefore opens Settings in a tab of its own (this same page, with
 * {@link TAB_VIEW} in its address) for both, where the dialogs work; Chromium keeps both in the popup.
 */
export const TAB_VIEW = 'view=tab';

/** The hash that opens the page on Settings (the tab opened for an export or an import). */
export const SETTINGS_HASH = '#settings';

/** Whether this document is the tab Latchkey opened for a file dialog (not the toolbar popup). */
export function isTabView(search: string): boolean {
  return new URLSearchParams(search).get('view') === 'tab';
}

/**
 * Whether a file dialog (the import's file picker, the export's save dialog) must open from a tab: in
 * Firefox's toolbar popup (its documents are on `moz-extension:`), which the dialog would close. One
 * decision for both, so export and import always go to the tab together.
 */
export function fileDialogNeedsTab(pageUrl: string): boolean {
  const url = new URL(pageUrl);
  return url.protocol === 'moz-extension:' && !isTabView(url.search);
}

/**
 * The address of this page opened as a tab on Settings, for the export or the import. It names the
 * view only: no action, file or passphrase ever goes into it (the backup's passphrase is typed in the
 * tab and only sent to the background with the import).
 */
export function settingsTabUrl(pageUrl: string): string {
  const url = new URL(pageUrl);
  // Not url.origin: it is "null" for moz-extension: where the URL parser does not know the scheme.
  return `${url.protocol}//${url.host}${url.pathname}?${TAB_VIEW}${SETTINGS_HASH}`;
}

/** Whether the page was opened to show Settings first (the tab above). */
export function opensOnSettings(pageUrl: string): boolean {
  const url = new URL(pageUrl);
  return isTabView(url.search) && url.hash === SETTINGS_HASH;
}
