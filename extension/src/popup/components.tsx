import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { BidiText } from './BidiText.js';

/**
 * A labelled form field; the label is always visible (no placeholder-only fields).
 *
 * `error` is a refusal (the form was submitted, or the background said no): it is announced and takes
 * focus to the field (WCAG 3.3.1). `invalid` is a live check while the person types (two passphrases that
 * differ): shown as the field's description, never moving focus — moving it mid-typing sent the rest of
 * the keystrokes into another, masked, field.
 *
 * `attempt` counts the form's submits: each failed one takes the focus to the field and says its error again,
 * even when the text is the same as the last one's (the focus stayed on Save and nothing was said: review).
 */
export function Field(props: {
  label: string;
  hint?: ComponentChildren;
  error?: string | null;
  invalid?: string | null;
  attempt?: number;
  children: (id: string, describedBy: string | undefined) => JSX.Element;
}) {
  const id = useId();
  const message = props.error || props.invalid;
  const hintId = props.hint || message ? `${id}-hint` : undefined;
  useEffect(() => {
    if (props.error) document.getElementById(id)?.focus();
  }, [props.error, props.attempt]);
  return (
    <div class="field">
      <label for={id}>
        <BidiText text={props.label} />
      </label>
      {props.children(id, hintId)}
      {message ? (
        // A new element for each attempt: an alert is read when it is inserted, not when it is left in place.
        <p key={props.error ? `error-${props.attempt ?? 0}` : 'invalid'} class="field-error" id={hintId} role={props.error ? 'alert' : undefined}>
          <BidiText text={message} />
        </p>
      ) : props.hint ? (
        <p class="field-hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
    </div>
  );
}

/**
 * A polite status that screen readers announce: the live region is on the screen from its first render,
 * empty, and the text arrives in it afterwards. A `role="status"` element inserted already holding its text
 * (as a {@link Notice} is) is usually not announced (NVDA with Chrome), so "Code filled" and "Added …"
 * were shown but never heard. Errors stay {@link Notice}s: `role="alert"` is announced when inserted.
 */
export function LiveStatus(props: { kind: 'info' | 'success'; text: string | null }) {
  const [shown, setShown] = useState<string | null>(null);
  useEffect(() => {
    // After the region's first paint, so the text is a change to it.
    const timer = setTimeout(() => setShown(props.text), 50);
    return () => clearTimeout(timer);
  }, [props.text]);
  return (
    <div role="status" class="live-status">
      {shown ? (
        <p class={`notice notice-${props.kind}`}>
          <BidiText text={shown} />
        </p>
      ) : null}
    </div>
  );
}

/**
 * The outcome of an action on a screen that stays: an error as a {@link Notice} (announced, focused), a success in
 * a {@link LiveStatus} that is there, empty, before the action — "Settings saved." and "Saved …" were inserted
 * holding their text, so a screen reader did not say them (QA).
 */
export function ResultMessage(props: { result: { kind: 'error' | 'success'; text: string } | null }) {
  const { result } = props;
  if (result?.kind === 'error') return <Notice kind="error">{result.text}</Notice>;
  return <LiveStatus kind="success" text={result?.text ?? null} />;
}

/**
 * A message on the screen. An error takes focus when it appears (unless `focus` is false: a field that is
 * about to take it instead), so keyboard users are where the problem is; any other kind only with `focus`
 * (the result of a button that was disabled while it worked, whose focus would otherwise fall to <body>).
 */
export function Notice(props: { kind: 'error' | 'info' | 'success'; focus?: boolean; children: ComponentChildren }) {
  const ref = useRef<HTMLParagraphElement>(null);
  const takesFocus = props.focus ?? props.kind === 'error';
  // Again when the text of a plain-text error changes (a second, different error on the same screen).
  useEffect(() => {
    if (takesFocus) ref.current?.focus();
  }, [takesFocus, typeof props.children === 'string' ? props.children : null]);
  return (
    <p ref={ref} class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'} tabIndex={takesFocus ? -1 : undefined}>
      {/* A message as text (the background's refusals among them) may name accounts in isolates. */}
      {typeof props.children === 'string' ? <BidiText text={props.children} /> : props.children}
    </p>
  );
}

/**
 * Move focus into a screen that has just replaced another: an error it opens with, else its first field
 * marked `autoFocus`, else its heading. Browsers honour the autofocus attribute once per document, so without this focus drops to
 * <body> on every screen change and a keyboard or screen-reader user loses their place.
 */
export function focusScreen(root: ParentNode = document): void {
  const target =
    root.querySelector<HTMLElement>('main .notice-error[tabindex="-1"]') ??
    root.querySelector<HTMLElement>('main [autofocus]') ??
    root.querySelector<HTMLElement>('main h1');
  target?.focus();
}

export function Icon(props: { name: 'lock' | 'plus' | 'gear' | 'copy' | 'check' | 'back' | 'edit' | 'key' | 'search' | 'qr' }) {
  const paths: Record<typeof props.name, JSX.Element> = {
    lock: <path d="M7 11V8a5 5 0 0 1 10 0v3M5 11h14v10H5z" />,
    plus: <path d="M12 5v14M5 12h14" />,
    gear: (
      <>
        <circle cx="12" cy="12" r="3" />
        <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
      </>
    ),
    copy: (
      <>
        <rect x="9" y="9" width="12" height="12" rx="2" />
        <path d="M5 15V5a2 2 0 0 1 2-2h10" />
      </>
    ),
    check: <path d="M5 13l4 4L19 7" />,
    back: <path d="M15 18l-6-6 6-6" />,
    edit: <path d="M4 20h4L19 9l-4-4L4 16zM14 6l4 4" />,
    key: (
      <>
        <circle cx="8" cy="15" r="4" />
        <path d="M11 12l9-9M17 6l3 3M15 8l2 2" />
      </>
    ),
    search: (
      <>
        <circle cx="11" cy="11" r="7" />
        <path d="M20 20l-4-4" />
      </>
    ),
    qr: <path d="M4 4h6v6H4zM14 4h6v6h-6zM4 14h6v6H4zM14 14h2v2h-2zM18 18h2v2h-2zM14 18h2M18 14h2" />,
  };
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      {paths[props.name]}
    </svg>
  );
}

export function Header(props: { title: string; onBack?: () => void; children?: ComponentChildren }) {
  return (
    <header class="header">
      {props.onBack ? (
        <button type="button" class="icon-button" onClick={props.onBack} aria-label="Back">
          <Icon name="back" />
        </button>
      ) : (
        <span class="brand-mark" aria-hidden="true">
          <Icon name="key" />
        </span>
      )}
      <h1 tabIndex={-1}>{props.title}</h1>
      <div class="header-actions">{props.children}</div>
    </header>
  );
}
