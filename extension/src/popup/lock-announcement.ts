import browser from 'webextension-polyfill';
import { isLockedAnnouncement } from '../background/messages.js';

/**
 * Call `onLocked` whenever the background announces that the vault was locked (Lock now in another popup
 * or tab, the auto-lock, an erase). Returns the function that stops listening.
 *
 * Every extension page receives every `runtime.sendMessage` of the others (the popup's requests too), so
 * this reacts to the background's announcement only — from the extension itself and not from a tab, i.e.
 * not from another page of it — and answers nothing: requests are the background's to answer.
 */
export function listenForLock(onLocked: () => void): () => void {
  const listener = (message: unknown, sender: browser.Runtime.MessageSender): undefined => {
    if (sender.id === browser.runtime.id && sender.tab === undefined && isLockedAnnouncement(message)) onLocked();
    return undefined;
  };
  browser.runtime.onMessage.addListener(listener);
  return () => browser.runtime.onMessage.removeListener(listener);
}
