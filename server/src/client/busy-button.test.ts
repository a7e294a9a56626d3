import { describe, expect, it } from 'vitest';
import { type BusyButton, busyGate } from './busy-button.js';

/** A button stand-in that keeps its attributes, as the DOM would. */
function fakeButton(): BusyButton & { attributes: Map<string, string> } {
  const attributes = new Map<string, string>();
  return {
    disabled: false,
    attributes,
    setAttribute: (name, value) => void attributes.set(name, value),
    removeAttribute: (name) => void attributes.delete(name),
  };
}

describe('busyGate', () => {
  it('keeps the button focusable while the task runs (aria-disabled, never `disabled`, which sends focus to <body>), and ignores presses meanwhile', async () => {
    const button = fakeButton();
    const run = busyGate(button);
    let finish: () => void = () => {};
    let started = 0;
    const task = () => {
      started++;
      return new Promise<void>((resolve) => {
        finish = resolve;
      });
    };
    expect(run(task)).not.toBeNull();
    expect(button.disabled).toBe(false);
    expect(button.attributes.get('aria-disabled')).toBe('true');
    expect(run(task)).toBeNull();
    expect(started).toBe(1);
    finish();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(button.attributes.has('aria-disabled')).toBe(false);
    expect(run(async () => {})).not.toBeNull();
  });

  it('frees the button after a failed task too', async () => {
    const button = fakeButton();
    const run = busyGate(button);
    await expect(run(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(button.attributes.has('aria-disabled')).toBe(false);
    expect(run(async () => {})).not.toBeNull();
  });
});
