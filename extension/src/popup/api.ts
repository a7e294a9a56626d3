import browser from 'webextension-polyfill';
import type { Request, Response } from '../background/messages.js';

/** Ask the background (which owns the key and the vault) to do something. Never throws. */
export async function send<T extends Request['type']>(request: Extract<Request, { type: T }>): Promise<Response<T>> {
  try {
    const response = (await browser.runtime.sendMessage(request)) as Response<T> | undefined;
    return response ?? { ok: false, error: 'Latchkey did not answer. Try again.' };
  } catch (error) {
    return { ok: false, error: `Latchkey could not reach its background page: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * Press the page's own "Use security key" button so the browser shows its native WebAuthn prompt;
 * the extension never calls WebAuthn itself. Needs no vault, so it works while locked.
 * Returns an error message, or closes the popup so the page gets focus back for the prompt.
 */
export async function handOverToSecurityKey(tabId: number): Promise<string | undefined> {
  const result = await send({ type: 'security-key', tabId });
  if (!result.ok) return result.error;
  window.close();
  return undefined;
}

/** What the popup needs for its first screen: the vault's state (with the codes when unlocked) and the tab. */
export type OpeningState = [Response<'status'>, number | null];

/**
 * Ask for the first screen's data: one request, whose answer carries the codes when the vault is unlocked
 * (most opens). main.tsx calls this before the first render, so the background's storage reads overlap
 * the popup's own start-up instead of following its first paint.
 */
export function askOpeningState(): Promise<OpeningState> {
  return Promise.all([send({ type: 'status' }), activeTabId().catch(() => null)]);
}

/** The tab the popup was opened on. */
export async function activeTabId(): Promise<number | null> {
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? null;
}
