/**
 * Where the popup's document is shown. Firefox closes an extension's toolbar popup as soon as a file
 * dialog takes the focus (Mozilla bug 1292701, open since 2016; Chromium keeps its popup open), so the
 * chosen file never reaches the popup and an import from there does nothing. In Firefox the Backup
 * card therefore opens Settings in a tab of its own (this same page, with {@link TAB_VIEW} in its
 * address), where the file picker works; Chromium keeps the picker in the popup.
 */
export const TAB_VIEW = 'view=tab';

/** The hash that opens the page on Settings (the tab opened for an import). */
export const SETTINGS_HASH = '#settings';

/** Whether this document is the tab Latchkey opened for choosing a file (not the toolbar popup). */
export function isTabView(search: string): boolean {
  return new URLSearchParams(search).get('view') === 'tab';
}

/**
 * Whether choosing a file must happen in a tab: in Firefox's toolbar popup (its documents are on
 * `moz-extension:`), which the file dialog would close.
 */
export function filePickerNeedsTab(pageUrl: string): boolean {
  const url = new URL(pageUrl);
  return url.protocol === 'moz-extension:' && !isTabView(url.search);
}

/** The address of this page opened as a tab on Settings, for the import. */
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
