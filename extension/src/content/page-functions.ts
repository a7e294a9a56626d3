/**
 * Functions injected on demand with `scripting.executeScript({ target: { tabId }, func, args })` —
 * top frame only (no `allFrames`), never declared as a content script. Each is serialised on its
 * own, so it must not reference anything outside its body: names come in through `args`.
 * The optional last parameter is a stand-in page for unit tests; in the page it is absent.
 */

/** What an injected function reports back. `reason` is shown to the person in plain words by the popup. */
export type PageResult =
  | { ok: true; submitted?: boolean }
  | { ok: false; reason: 'not-top-frame' | 'wrong-origin' | 'no-field' | 'field-disabled' | 'no-security-key' | 'too-late' };

/** What the popup needs to know about the page to offer Fill or "Use security key". */
export interface PageProbe {
  topFrame: boolean;
  origin: string;
  hasCodeField: boolean;
  hasSecurityKey: boolean;
}

/** The slice of a page the functions touch (the real `window`/`document` in the page). */
export interface PageScope {
  window: { top: unknown; location: { origin: string }; addEventListener(type: 'focus', cb: () => void, o: object): void };
  document: { querySelector(selector: string): Element | null; getElementById(id: string): Element | null; hasFocus(): boolean };
  Event: typeof Event;
  /** The clock (`Date.now` in the page's isolated world, which the page's own scripts cannot replace). */
  now?: () => number;
}

export interface FillRequest {
  code: string;
  /** The account's origin; the page must still have it when the code lands (no navigation race). */
  origin: string;
  submit: boolean;
  /** The contract's code inputs, in order of preference (DOM in @latchkey/shared). */
  selectors: readonly string[];
  /**
   * The last moment this function may act (ms since the epoch), shortly before the background stops waiting
   * for it (`pageDeadline` in handler-context.ts). A page that is busy or still loading runs injected code
   * only when it gets to it; by then the popup has said no code was filled, so a run after this time fills
   * nothing (and submits nothing).
   */
  notAfter: number;
}

/** Put the code into the page's TOTP input the way typing would, then optionally submit. */
export function fillCodeInPage(request: FillRequest, scope?: PageScope): PageResult {
  const w = scope ? scope.window : window;
  const d = scope ? scope.document : document;
  const EventType = scope ? scope.Event : Event;
  const now = scope?.now ?? Date.now;
  if (now() > request.notAfter) return { ok: false, reason: 'too-late' };
  if (w.top !== w) return { ok: false, reason: 'not-top-frame' };
  if (w.location.origin !== request.origin) return { ok: false, reason: 'wrong-origin' };
  let input: HTMLInputElement | null = null;
  for (const selector of request.selectors) {
    input = d.querySelector(selector) as HTMLInputElement | null;
    if (input) break;
  }
  if (!input) return { ok: false, reason: 'no-field' };
  if (input.disabled || input.readOnly) return { ok: false, reason: 'field-disabled' };
  // The prototype's setter, not `input.value =`: frameworks that track the value (React and
  // friends) only notice a change made through the native setter followed by an input event.
  const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(input) as object, 'value')?.set;
  input.focus();
  if (setter) setter.call(input, request.code);
  else input.value = request.code;
  input.dispatchEvent(new EventType('input', { bubbles: true }));
  input.dispatchEvent(new EventType('change', { bubbles: true }));
  if (request.submit && input.form) {
    // requestSubmit() does nothing when one of the form's constraints fails (a page's own `pattern` or a
    // `required` field): the browser's message is shown then, and the popup must not say it was sent. A
    // `novalidate` form (the index's own) is submitted whatever its constraints say.
    if (!input.form.noValidate && !input.form.checkValidity()) {
      input.form.reportValidity();
      return { ok: true, submitted: false };
    }
    input.form.requestSubmit();
    return { ok: true, submitted: true };
  }
  return { ok: true, submitted: false };
}

/** Report whether this top-level page has the code input and a security-key button. Reads only. */
export function probePage(selectors: readonly string[], securityKeyButtonId: string, scope?: PageScope): PageProbe {
  const w = scope ? scope.window : window;
  const d = scope ? scope.document : document;
  return {
    topFrame: w.top === w,
    origin: w.location.origin,
    hasCodeField: selectors.some((selector) => d.querySelector(selector) !== null),
    hasSecurityKey: d.getElementById(securityKeyButtonId) !== null,
  };
}

/**
 * Press the page's own "Use security key" button so the browser shows its native WebAuthn prompt.
 * The extension never calls WebAuthn. Browsers only allow the ceremony in a focused document, so
 * when the popup still has focus the press waits until the page gets it back (the popup closes).
 */
export function pressSecurityKeyButton(origin: string, buttonId: string, notAfter: number, scope?: PageScope): PageResult {
  const w = scope ? scope.window : window;
  const d = scope ? scope.document : document;
  const now = scope?.now ?? Date.now;
  // As for a fill: a page that runs this only after the background gave up (the popup said so) gets no press.
  if (now() > notAfter) return { ok: false, reason: 'too-late' };
  if (w.top !== w) return { ok: false, reason: 'not-top-frame' };
  if (w.location.origin !== origin) return { ok: false, reason: 'wrong-origin' };
  const button = d.getElementById(buttonId) as HTMLButtonElement | null;
  if (!button) return { ok: false, reason: 'no-security-key' };
  if (d.hasFocus()) button.click();
  else w.addEventListener('focus', () => button.click(), { once: true });
  return { ok: true };
}
