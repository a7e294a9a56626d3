import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { focusScreen, Notice } from './components.js';
import type { AccountView, TabContext } from '../background/messages.js';
import { type OpeningState, send } from './api.js';
import { AccountList } from './AccountList.js';
import { AddAccount } from './AddAccount.js';
import { CreateVault } from './CreateVault.js';
import { EditAccount } from './EditAccount.js';
import { EraseVault } from './EraseVault.js';
import { listenForLock } from './lock-announcement.js';
import { opensOnSettings } from './page-view.js';
import { Settings } from './Settings.js';
import { Unlock } from './Unlock.js';

type Screen =
  | { name: 'loading' }
  | { name: 'error'; message: string }
  | { name: 'create'; notice?: string }
  | { name: 'unlock'; notice?: string; alert?: string }
  | { name: 'erase' }
  | { name: 'list'; notice?: string; alert?: string; accounts?: AccountView[]; query?: string; focusAccount?: string }
  | { name: 'add' }
  /** `query`: the list's search when the edit began, given back to the list afterwards. */
  | { name: 'edit'; account: AccountView; query: string }
  | { name: 'settings' };

const NO_TAB: TabContext = { tabId: null, origin: null, hasCodeField: false, hasSecurityKey: false };

/** The screens that show the vault's accounts (and, on the list, their codes): left when the vault locks. */
const SHOWS_VAULT: ReadonlySet<Screen['name']> = new Set(['list', 'add', 'edit', 'settings']);

export interface AppProps {
  /** The first screen's data, asked for before the first render (main.tsx). */
  opening: Promise<OpeningState>;
}

export function App({ opening }: AppProps) {
  const [screen, setScreen] = useState<Screen>({ name: 'loading' });
  /** The tab Firefox's popup opens for an export or an import (page-view.ts): opened for Settings' Backup card. */
  const settingsTab = useRef(opensOnSettings(location.href)).current;
  /**
   * That tab starts on Settings, after the unlock if locked; and when it locks while on Settings (Lock now in the
   * popup, the auto-lock), the unlock takes it back there — it went to the account list (review).
   */
  const startOnSettings = useRef(settingsTab);
  /** The list, or Settings once when this page was opened for it (again after each lock that left Settings). */
  const afterUnlock = useCallback((accounts?: AccountView[], notice?: string, alert?: string): Screen => {
    // Once per lock, and not over a notice or an alert, which the list must show.
    const toSettings = startOnSettings.current && !notice && !alert;
    startOnSettings.current = false;
    if (toSettings) return { name: 'settings' };
    return { name: 'list', ...(accounts ? { accounts } : {}), ...(notice ? { notice } : {}), ...(alert ? { alert } : {}) };
  }, []);
  const [tab, setTab] = useState<TabContext>(NO_TAB);
  const lastScreen = useRef<Screen['name']>('loading');
  /** The vault locked: the tab opened for Settings goes back there once unlocked, if that is where it was. */
  const noteLock = useCallback(() => {
    if (settingsTab && lastScreen.current === 'settings') startOnSettings.current = true;
  }, [settingsTab]);

  useEffect(() => {
    void (async () => {
      const [status, tabId] = await opening;
      if (!status.ok && status.code !== 'locked') return setScreen({ name: 'error', message: status.error });
      // A session that ended on opening (an older vault copy put back) is a lock screen that says why.
      if (!status.ok) setScreen({ name: 'unlock', alert: status.error });
      else if (status.state === 'none') setScreen({ name: 'create' });
      else if (status.state === 'locked') setScreen({ name: 'unlock' });
      // Opened by the keyboard shortcut, which could not fill: the list says why, at once.
      else setScreen(afterUnlock(status.accounts, undefined, status.shortcutRefusal ?? undefined));
      const context = await send({ type: 'tab-context', tabId });
      if (context.ok) setTab(context);
    })();
  }, [opening]);

  // Every screen change puts focus on the new screen's first field or heading (never left on <body>).
  useEffect(() => {
    if (screen.name !== 'loading') focusScreen();
    // Back on the list from adding, editing or settings: what the tab is offered (Fill, the security-key
    // hand-off, which follow the vault's accounts) may have changed, so ask again.
    const from = lastScreen.current;
    lastScreen.current = screen.name;
    if (screen.name === 'list' && (from === 'add' || from === 'edit' || from === 'settings') && tab.tabId !== null) {
      void send({ type: 'tab-context', tabId: tab.tabId }).then((context) => context.ok && setTab(context));
    }
  }, [screen.name]);

  // Locked elsewhere (Lock now in another popup or in Firefox's Import tab, the auto-lock, an erase): a screen
  // that shows the vault leaves it at once. It used to keep the codes, live, until their period ended (up to
  // 300 s) and the names until the next request. Asked again, as an erase leaves no vault to unlock.
  useEffect(
    () =>
      listenForLock(() => {
        if (!SHOWS_VAULT.has(lastScreen.current)) return;
        void send({ type: 'status' }).then((status) => {
          if (status.ok && status.state === 'none') setScreen({ name: 'create' });
          else if (!status.ok || status.state === 'locked') {
            noteLock();
            setScreen({ name: 'unlock' });
          }
        });
      }),
    [noteLock],
  );

  const showList = useCallback((notice?: string) => setScreen({ name: 'list', ...(notice ? { notice } : {}) }), []);
  const locked = useCallback(
    (notice?: string) => {
      noteLock();
      setScreen({ name: 'unlock', ...(notice ? { notice } : {}) });
    },
    [noteLock],
  );
  // Back from editing (saved, deleted, Back or Escape): the list as it was left — its search, and the focus on the
  // edited row. It came back unfiltered with the focus on the heading, the row to find again (QA).
  const backFromEdit = useCallback(
    (from: { account: AccountView; query: string }, notice?: string) =>
      setScreen({ name: 'list', ...(notice ? { notice } : {}), query: from.query, focusAccount: from.account.id }),
    [],
  );

  // Escape goes back from a sub-screen to the list (from the erase screen: to the lock screen; on the list
  // itself the browser closes the popup), unless something inside the screen answered it first (a
  // confirmation closes alone, keeping the edits).
  useEffect(() => {
    if (screen.name !== 'add' && screen.name !== 'edit' && screen.name !== 'settings' && screen.name !== 'erase') return;
    const back = screen.name === 'erase' ? () => locked() : screen.name === 'edit' ? () => backFromEdit(screen) : () => showList();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !event.defaultPrevented) {
        event.preventDefault();
        back();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [screen, showList, locked, backFromEdit]);

  switch (screen.name) {
    case 'loading':
      return <main class="screen screen-center" aria-busy="true" />;
    case 'error':
      return (
        <main class="screen screen-center">
          <Notice kind="error">{screen.message}</Notice>
        </main>
      );
    case 'create':
      return <CreateVault notice={screen.notice} onCreated={() => showList()} />;
    case 'unlock':
      return (
        <Unlock
          tab={tab}
          notice={screen.notice}
          alert={screen.alert}
          onUnlocked={(notice, alert, accounts) => setScreen(afterUnlock(accounts, notice, alert))}
          onForgot={() => setScreen({ name: 'erase' })}
        />
      );
    case 'erase':
      return (
        <EraseVault
          onBack={() => locked()}
          onErased={() => setScreen({ name: 'create', notice: 'The vault was erased. Choose a passphrase for a new one.' })}
        />
      );
    case 'list':
      return (
        <AccountList
          tab={tab}
          notice={screen.notice}
          alert={screen.alert}
          initialAccounts={screen.accounts}
          initialQuery={screen.query}
          focusAccount={screen.focusAccount}
          onAdd={() => setScreen({ name: 'add' })}
          onEdit={(account, query) => setScreen({ name: 'edit', account, query })}
          onSettings={() => setScreen({ name: 'settings' })}
          onLocked={locked}
        />
      );
    case 'add':
      return <AddAccount tab={tab} onDone={showList} onLocked={locked} />;
    case 'edit':
      return <EditAccount account={screen.account} onDone={(notice) => backFromEdit(screen, notice)} onLocked={locked} />;
    case 'settings':
      return <Settings tab={tab} focusBackup={settingsTab} onDone={showList} onLocked={locked} />;
  }
}
