/**
 * The aria-live region a page script reports progress and errors in. The server's view renders it (with
 * `role="status"` and `aria-live`); the script only fills and clears it, so its markup lives in one place.
 */
export interface StatusRegion {
  /**
   * `takeFocusFrom`: move the focus to the message if this control has it. A busy button keeps the focus
   * (busy-button.ts), so a refusal is read first and the button is the next Tab stop for another try; focus the
   * user moved elsewhere stays there.
   */
  show(message: string, kind: 'info' | 'error', options?: { takeFocusFrom?: Element }): void;
  clear(): void;
}

/** The region with this id, or null when the page has none (then the script leaves its button disabled). */
export function statusRegion(id: string): StatusRegion | null {
  const region = document.getElementById(id);
  if (!region) return null;
  return {
    show(message, kind, { takeFocusFrom } = {}) {
      region.textContent = message;
      // The stylesheet's error notice, so a failure looks like every other error on the site.
      region.classList.toggle('notice', kind === 'error');
      region.classList.toggle('notice-error', kind === 'error');
      region.hidden = false;
      // Focus that fell to <body> (a control that started the ceremony was disabled or hidden meanwhile) comes
      // to the message instead, so keyboard and screen-reader users continue from there.
      const takeFocus = takeFocusFrom !== undefined && document.activeElement === takeFocusFrom;
      if (takeFocus || (kind === 'error' && (document.activeElement === null || document.activeElement === document.body))) {
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
