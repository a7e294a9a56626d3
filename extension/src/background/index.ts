import browser from 'webextension-polyfill';
import { siteAccessPattern } from '../popup/site-access-pattern.js';
import { vaultStorage } from '../vault/vault-store.js';
import { fetchSiteDate } from './fetch-site-date.js';
import { createKeySession, type SessionArea } from './key-session.js';
import { createVaultService } from './vault-service.js';
import { LOCKED_ANNOUNCEMENT, type Request } from './messages.js';

const AUTO_LOCK_ALARM = 'latchkey-auto-lock';
const FILL_COMMAND = 'fill-totp';

const service = createKeySession(browser.storage.session as SessionArea | undefined).then((session) =>
  createVaultService({
    // The rollback high-water mark also lives outside storage.local (vault/vault-store.ts vaultStorage).
    storage: vaultStorage(browser.storage.local, [browser.storage.sync, browser.storage.session]),
    session,
    now: () => Date.now(),
    async tabUrl(tabId) {
      try {
        return (await browser.tabs.get(tabId)).url;
      } catch {
        return undefined;
      }
    },
    async inject(tabId, func, args) {
      // No `allFrames`, no `frameIds`: the top frame only. The function re-checks that itself.
      const [first] = await browser.scripting.executeScript({ target: { tabId }, func, args });
      if (!first || first.error !== undefined) throw new Error('The page script did not run.');
      return first.result as ReturnType<typeof func>;
    },
    announceLocked() {
      // To every open extension page (popup, Firefox's Import tab); none open is fine.
      browser.runtime.sendMessage(LOCKED_ANNOUNCEMENT).catch(() => undefined);
    },
    async scheduleAutoLock(minutes) {
      if (minutes === null) await browser.alarms.clear(AUTO_LOCK_ALARM);
      else await browser.alarms.create(AUTO_LOCK_ALARM, { delayInMinutes: minutes });
    },
    siteClock: {
      // Memory only: a reading says which account sites were opened, so it does not outlive the browser.
      area: browser.storage.session,
      // The same pattern a grant is made for (site-access-pattern.ts); the index origins are in the manifest.
      hasHostAccess: (origin) => browser.permissions.contains({ origins: [siteAccessPattern(origin)] }),
      fetchDate: fetchSiteDate,
    },
    // One pattern a call: Chromium refuses a whole request that names a required pattern (the test build's loopback).
    removeHostPermission: (pattern) => browser.permissions.remove({ origins: [pattern] }),
  }),
);

// Listeners are registered synchronously at start-up so a stopped service worker wakes for them.
browser.runtime.onMessage.addListener((message: unknown, sender: browser.Runtime.MessageSender) => {
  // Only the extension's own pages (the popup) may talk to the vault: not scripts running in web
  // pages (their sender URL is the page's), not other extensions.
  if (sender.id !== browser.runtime.id || !sender.url?.startsWith(browser.runtime.getURL(''))) return undefined;
  // The service answers anything else with a refusal (request-shape.ts), so the popup is never left waiting.
  return service.then((s) => s.handle(message as Request));
});

browser.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === AUTO_LOCK_ALARM) void service.then((s) => s.lockIfDue());
});

// storage.session is empty after a browser restart anyway; this also covers Firefox and a profile
// that restores its background page.
browser.runtime.onStartup.addListener(() => {
  void service.then((s) => s.lock());
});

browser.commands.onCommand.addListener((command, tab) => {
  if (command !== FILL_COMMAND) return;
  void (async () => {
    const tabId = tab?.id ?? (await browser.tabs.query({ active: true, lastFocusedWindow: true }))[0]?.id;
    const filled = tabId === undefined ? false : await (await service).fillForTab(tabId).catch(() => false);
    // Locked, several accounts for this site, or a refusal: let the person see why in the popup.
    if (!filled) await browser.action.openPopup().catch(() => undefined);
  })();
});
