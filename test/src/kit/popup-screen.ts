import type { Page } from 'playwright-core';

/** The popup screens the kit's helpers start from, told apart by what a person sees. */
export type PopupScreenKind = 'locked' | 'set-up' | 'other';

export interface PopupScreen {
  kind: PopupScreenKind;
  /** What the screen shows, for an error message: e.g. `"Set up Latchkey" (no vault yet)`. */
  description: string;
}

/**
 * Waits until the popup has shown its first screen (its `main` no longer `aria-busy`), then says which:
 * a helper that expects another screen can then fail at once and name the one it found, rather than
 * wait out its whole timeout for text that will never appear.
 */
export async function popupScreen(popup: Page, timeout: number): Promise<PopupScreen> {
  await popup.locator('main:not([aria-busy="true"])').first().waitFor({ state: 'visible', timeout });
  if (await popup.getByText('Your vault is locked.').isVisible()) return { kind: 'locked', description: 'the locked screen' };
  const title = ((await popup.locator('main h1').first().textContent()) ?? '').trim();
  if (title === 'Set up Latchkey') return { kind: 'set-up', description: '"Set up Latchkey" (no vault yet)' };
  // The account list's heading is the product name, like the locked screen's.
  if (title === 'Latchkey') return { kind: 'other', description: 'the account list (the vault is unlocked)' };
  return { kind: 'other', description: title === '' ? 'a screen without a heading' : `"${title}"` };
}
