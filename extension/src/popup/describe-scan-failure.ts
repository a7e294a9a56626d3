/**
 * What to tell the person when the visible tab cannot be captured for "Scan QR". Browsers allow the
 * capture only with `activeTab` — granted by clicking the extension's toolbar button on that very tab
 * (or its keyboard shortcut), not when the popup was opened another way or the tab navigated since —
 * and never on the browser's own pages. Their raw errors name permissions, not what to do.
 */
export function describeScanFailure(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  if (/activeTab|<all_urls>|permission|Missing host|not allowed|cannot be scripted|Cannot access/i.test(raw)) {
    return 'Latchkey may read this tab only right after you click its toolbar button on that tab. Close this, open the page with the QR code, click the Latchkey button in the toolbar, then Scan QR again — or use Paste link or Type it instead.';
  }
  return `Could not capture this tab (${raw}). Use Paste link or Type it instead.`;
}
