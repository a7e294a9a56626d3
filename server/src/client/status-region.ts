/**
 * The aria-live region a page script reports progress and errors in. The server's view renders it (with
 * `role="status"` and `aria-live`); the script only fills and clears it, so its markup lives in one place.
 */
export interface StatusRegion {
  show(message: string, kind: 'info' | 'error'): void;
  clear(): void;
}

/** The region with this id, or null when the page has none (then the script leaves its button disabled). */
export function statusRegion(id: string): StatusRegion | null {
  const region = document.getElementById(id);
  if (!region) return null;
  return {
    show(message, kind) {
      region.textContent = message;
      // The stylesheet's error notice, so a failure looks like every other error on the site.
      region.classList.toggle('notice', kind === 'error');
      region.classList.toggle('notice-error', kind === 'error');
      region.hidden = false;
      // The button that started the ceremony was disabled meanwhile, which sends focus to <body>: bring it
      // to the message instead, so keyboard and screen-reader users continue from there.
      if (kind === 'error' && (document.activeElement === null || document.activeElement === document.body)) {
        region.tabIndex = -1;
        region.focus();
      }
    },
    clear() {
      region.textContent = '';
      region.classList.remove('notice', 'notice-error');
    },
  };
}
