import { describe, expect, it } from 'vitest';
import { fillCodeInPage, pressSecurityKeyButton, probePage, type PageScope } from './page-functions.js';

const SELECTORS = ['input[name="totp_value"]', 'input[autocomplete="one-time-code"]'];
/** The page's clock in the stand-in page, and the background's deadline for the functions (5 s later). */
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const NOT_AFTER = NOW + 5_000;

/** A stand-in input with a prototype value setter, like HTMLInputElement's. */
class FakeInputBase {
  #value = '';
  setterCalls = 0;
  get value() {
    return this.#value;
  }
  set value(next: string) {
    this.setterCalls += 1;
    this.#value = next;
  }
}
class FakeInput extends FakeInputBase {
  disabled = false;
  readOnly = false;
  focused = false;
  events: string[] = [];
  submitted = 0;
  /** Whether the form's own constraints pass (requestSubmit does nothing otherwise). */
  valid = true;
  reported = 0;
  form: { noValidate: boolean; requestSubmit(): void; checkValidity(): boolean; reportValidity(): boolean } | null = {
    /** `novalidate` on the form: submitted whatever its constraints say. */
    noValidate: false,
    requestSubmit: () => {
      if (this.valid || this.form?.noValidate) this.submitted += 1;
    },
    checkValidity: () => this.valid,
    reportValidity: () => {
      this.reported += 1;
      return this.valid;
    },
  };
  focus() {
    this.focused = true;
  }
  dispatchEvent(event: Event) {
    this.events.push(`${event.type}:${event.bubbles}`);
    return true;
  }
}

function fakePage(options: { framed?: boolean; origin?: string; input?: FakeInput | null; button?: boolean; focused?: boolean; now?: number } = {}) {
  const input = options.input === undefined ? new FakeInput() : options.input;
  const clicks: string[] = [];
  const focusListeners: Array<() => void> = [];
  const win = {
    top: null as unknown,
    location: { origin: options.origin ?? 'https://pypi.org' },
    addEventListener: (_type: 'focus', cb: () => void) => void focusListeners.push(cb),
  };
  win.top = options.framed ? {} : win;
  const scope: PageScope = {
    window: win,
    document: {
      querySelector: (selector: string) => (selector === SELECTORS[0] && input ? (input as unknown as Element) : null),
      getElementById: (id: string) => (options.button && id === 'webauthn-auth-begin' ? ({ click: () => clicks.push(id) } as unknown as Element) : null),
      hasFocus: () => options.focused ?? true,
    },
    Event,
    now: () => options.now ?? NOW,
  };
  return { scope, input, clicks, focusListeners };
}

describe('fillCodeInPage', () => {
  const request = { code: '123456', origin: 'https://pypi.org', submit: false, selectors: SELECTORS, notAfter: NOT_AFTER };

  it('sets the value through the native setter and fires input and change', () => {
    const { scope, input } = fakePage();
    expect(fillCodeInPage(request, scope)).toEqual({ ok: true, submitted: false });
    expect(input?.value).toBe('123456');
    expect(input?.setterCalls).toBe(1);
    expect(input?.focused).toBe(true);
    expect(input?.events).toEqual(['input:true', 'change:true']);
    expect(input?.submitted).toBe(0);
  });

  it('submits the form only when asked', () => {
    const { scope, input } = fakePage();
    expect(fillCodeInPage({ ...request, submit: true }, scope)).toEqual({ ok: true, submitted: true });
    expect(input?.submitted).toBe(1);
  });

  it('says "not submitted" when the page’s own form constraints stop the submit, and lets the browser say why', () => {
    const input = new FakeInput();
    input.valid = false;
    const { scope } = fakePage({ input });
    expect(fillCodeInPage({ ...request, submit: true }, scope)).toEqual({ ok: true, submitted: false });
    expect(input.value).toBe('123456');
    expect(input.submitted).toBe(0);
    expect(input.reported).toBe(1);
    // A `novalidate` form (the index's own) is submitted whatever its constraints say: "submitted" it is.
    input.form!.noValidate = true;
    expect(fillCodeInPage({ ...request, submit: true }, scope)).toEqual({ ok: true, submitted: true });
    expect(input.submitted).toBe(1);
  });

  it('refuses inside a frame, touching nothing', () => {
    const { scope, input } = fakePage({ framed: true });
    expect(fillCodeInPage(request, scope)).toEqual({ ok: false, reason: 'not-top-frame' });
    expect(input?.value).toBe('');
    expect(input?.events).toEqual([]);
  });

  it.each(['https://pypi.org.evil.com', 'http://pypi.org', 'https://test.pypi.org', 'https://pypi.org:8443'])(
    'refuses when the page is now %s (navigation after the check)',
    (origin) => {
      const { scope, input } = fakePage({ origin });
      expect(fillCodeInPage(request, scope)).toEqual({ ok: false, reason: 'wrong-origin' });
      expect(input?.value).toBe('');
    },
  );

  it('reports a page without the code field', () => {
    expect(fillCodeInPage(request, fakePage({ input: null }).scope)).toEqual({ ok: false, reason: 'no-field' });
  });

  it('does not type into a disabled field', () => {
    const input = new FakeInput();
    input.disabled = true;
    expect(fillCodeInPage(request, fakePage({ input }).scope)).toEqual({ ok: false, reason: 'field-disabled' });
    expect(input.value).toBe('');
  });

  it('fills nothing when the page runs it only after the background stopped waiting (a busy or slow page)', () => {
    const input = new FakeInput();
    const { scope } = fakePage({ input, now: NOT_AFTER + 1 });
    expect(fillCodeInPage({ ...request, submit: true }, scope)).toEqual({ ok: false, reason: 'too-late' });
    expect(input.value).toBe('');
    expect(input.events).toEqual([]);
    expect(input.submitted).toBe(0);
    // Up to the deadline itself it fills as usual.
    expect(fillCodeInPage(request, fakePage({ now: NOT_AFTER }).scope)).toEqual({ ok: true, submitted: false });
  });

  it('is self-contained, so executeScript can serialise it', () => {
    for (const fn of [fillCodeInPage, probePage, pressSecurityKeyButton]) {
      const rebuilt = new Function(`return (${fn.toString()})`)() as typeof fn;
      expect(typeof rebuilt).toBe('function');
    }
    const rebuilt = new Function(`return (${fillCodeInPage.toString()})`)() as typeof fillCodeInPage;
    expect(rebuilt(request, fakePage().scope)).toEqual({ ok: true, submitted: false });
  });
});

describe('probePage', () => {
  it('reports the field, the security-key button and whether it is the top frame', () => {
    expect(probePage(SELECTORS, 'webauthn-auth-begin', fakePage({ button: true }).scope)).toEqual({
      topFrame: true,
      origin: 'https://pypi.org',
      hasCodeField: true,
      hasSecurityKey: true,
    });
    expect(probePage(SELECTORS, 'webauthn-auth-begin', fakePage({ framed: true, input: null }).scope)).toMatchObject({
      topFrame: false,
      hasCodeField: false,
      hasSecurityKey: false,
    });
  });
});

describe('pressSecurityKeyButton', () => {
  it('clicks the page’s own button at once when the page has focus', () => {
    const page = fakePage({ button: true });
    expect(pressSecurityKeyButton('https://pypi.org', 'webauthn-auth-begin', NOT_AFTER, page.scope)).toEqual({ ok: true });
    expect(page.clicks).toEqual(['webauthn-auth-begin']);
  });

  it('waits for the page to regain focus (the popup closing) before clicking', () => {
    const page = fakePage({ button: true, focused: false });
    pressSecurityKeyButton('https://pypi.org', 'webauthn-auth-begin', NOT_AFTER, page.scope);
    expect(page.clicks).toEqual([]);
    for (const listener of page.focusListeners) listener();
    expect(page.clicks).toEqual(['webauthn-auth-begin']);
  });

  it('presses nothing when the page runs it only after the background stopped waiting', () => {
    const page = fakePage({ button: true, now: NOT_AFTER + 1 });
    expect(pressSecurityKeyButton('https://pypi.org', 'webauthn-auth-begin', NOT_AFTER, page.scope)).toEqual({ ok: false, reason: 'too-late' });
    for (const listener of page.focusListeners) listener();
    expect(page.clicks).toEqual([]);
  });

  it('refuses in frames, on other origins, and without the button', () => {
    expect(pressSecurityKeyButton('https://pypi.org', 'webauthn-auth-begin', NOT_AFTER, fakePage({ button: true, framed: true }).scope)).toMatchObject({
      ok: false,
      reason: 'not-top-frame',
    });
    expect(
      pressSecurityKeyButton('https://pypi.org', 'webauthn-auth-begin', NOT_AFTER, fakePage({ button: true, origin: 'https://evil.org' }).scope),
    ).toMatchObject({
      ok: false,
      reason: 'wrong-origin',
    });
    expect(pressSecurityKeyButton('https://pypi.org', 'webauthn-auth-begin', NOT_AFTER, fakePage().scope)).toMatchObject({
      ok: false,
      reason: 'no-security-key',
    });
  });
});
