/** The parts of a button {@link busyGate} touches: an HTMLButtonElement has them; tests pass a stand-in. */
export interface BusyButton {
  disabled: boolean;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
}

/**
 * Runs one task at a time for `button`, which says it is busy meanwhile; presses while a task runs are ignored.
 * Returns `run`: it starts `task` and returns its promise (settled once the button is free again), or null
 * without starting it while another is still running.
 *
 * Busy is `aria-disabled="true"`, never `disabled`: disabling the focused button sends the focus to `<body>`
 * (browsers drop focus from disabled controls), so a keyboard or screen-reader user waiting on the browser's
 * security-key prompt came back to the top of the page. aria-disabled keeps the focus and still tells
 * assistive technology the button does nothing now (WCAG 2.2 SC 2.4.3 Focus Order); the gate does the ignoring.
 */
export function busyGate(button: BusyButton): (task: () => Promise<void>) => Promise<void> | null {
  let running = false;
  return (task) => {
    if (running) return null;
    running = true;
    button.setAttribute('aria-disabled', 'true');
    return task().finally(() => {
      running = false;
      button.removeAttribute('aria-disabled');
    });
  };
}
