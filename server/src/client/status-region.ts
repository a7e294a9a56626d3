/**
 * The aria-live region a page script reports progress and errors in. Uses the server-rendered element
 * when present, otherwise adds one after the given anchor so a message is never lost.
 */
export interface StatusRegion {
  /** `link`: a way on, after the message (e.g. "Log in again"). */
  show(message: string, kind: 'info' | 'error', link?: { href: string; text: string }): void;
  clear(): void;
}

export function statusRegion(id: string, anchor: Element): StatusRegion {
  let element = document.getElementById(id);
  if (!element) {
    element = document.createElement('p');
    element.id = id;
    element.setAttribute('role', 'status');
    element.setAttribute('aria-live', 'polite');
    anchor.insertAdjacentElement('afterend', element);
  }
  const region = element;
  return {
    show(message, kind, link) {
      region.textContent = message;
      if (link) {
        const anchor = document.createElement('a');
        anchor.href = link.href;
        anchor.textContent = link.text;
        region.append(' ', anchor);
      }
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
