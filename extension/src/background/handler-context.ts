import { DOM } from '@latchkey/shared';
import { DEFAULT_KDF, type KdfParams } from '../vault/kdf.js';
import type { VaultAccount, VaultPayload } from '../vault/payload.js';
import {
  openVault,
  readVault,
  VaultRollbackError,
  type StoredVaultState,
  writeVault,
  type UnlockedVault,
  type VaultStorageArea,
} from '../vault/vault-store.js';
import { probePage, type PageProbe, type PageResult } from '../content/page-functions.js';
import { codeValidUntil, currentCode } from './current-code.js';
import { rememberAccountOrigins } from './security-key-sites.js';
import type { KeySession } from './key-session.js';
import type { SiteClock } from './site-clock-offset.js';
import type { AccountView, BackupStatus, Request, ResponseMap, VaultListing } from './messages.js';
import { UserFacingError } from './user-facing-error.js';

/** Browser capabilities the service needs, passed in so it can be tested without a browser. */
export interface ServiceDeps {
  storage: VaultStorageArea;
  session: KeySession;
  /** The tab's current URL, or undefined when the extension may not see it. */
  tabUrl(tabId: number): Promise<string | undefined>;
  /** Run one of the page functions in the top frame of `tabId` and return its result. */
  inject<A extends unknown[], R>(tabId: number, func: (...args: A) => R, args: A): Promise<R>;
  /** (Re)arm the auto-lock timer; `null` cancels it. */
  scheduleAutoLock(minutes: number | null): Promise<void>;
  now(): number;
  /** KDF cost for new vaults and passphrase changes; only tests pass anything but the default. */
  kdf?: KdfParams;
  /** Tell the extension's open pages that the vault was just locked (`LOCKED_ANNOUNCEMENT`, messages.ts); best effort, never throws. */
  announceLocked(): void;
  /** How long to wait for a page function ({@link PAGE_TIMEOUT_MS}); only tests pass anything but the default. */
  pageTimeoutMs?: number;
  /** Reading an account site's clock for the popup's clock warning (site-clock-offset.ts); absent: no readings. */
  siteClock?: SiteClock;
  /**
   * Give back the optional host access granted for one match pattern (`permissions.remove`, never prompts). Rejects
   * when the browser refuses, as for a pattern the manifest requires; the caller ignores that.
   */
  removeHostPermission(pattern: string): Promise<unknown>;
}

/** What every request handler gets: the browser capabilities and the vault/session rules they share. */
export interface HandlerContext {
  deps: ServiceDeps;
  /** KDF cost for new vaults and passphrase changes. */
  kdf: KdfParams;
  /** How long a page function may take before the background gives up on it ({@link PAGE_TIMEOUT_MS}). */
  pageTimeoutMs: number;
  /**
   * The deadline to hand a page function that acts (fills, presses): after it, the function does nothing. A
   * fifth of the wait before the background stops waiting, so the answer of a function that acted just in
   * time still arrives within the wait, and "did nothing there" is never said of a code filled.
   */
  pageDeadline(): number;
  /** Remember the key and (re)arm auto-lock from the vault's settings; resolves to when it will lock. */
  startSession(vault: UnlockedVault): Promise<number>;
  /**
   * One wait on storage for the session's key, the records and the rollback marks; then, when a session
   * holds the key, the vault opened with it and — for the person's own requests (`activity`, the default) —
   * the session refreshed, pushing the auto-lock back. `vault` is null when locked; `stored` is what was
   * read either way; `lockAt` is when the session ends (null when locked). A record the key cannot open or
   * an older copy put back ends the session with a "locked" refusal that says why.
   */
  openSession(options?: { activity?: boolean }): Promise<{ vault: UnlockedVault | null; stored: StoredVaultState; lockAt: number | null }>;
  /** The open vault ({@link openSession}), or a "locked" refusal. */
  requireOpen(): Promise<UnlockedVault>;
  /** Re-encrypt and store the payload under the open vault's key (and note its account origins). */
  save(vault: UnlockedVault, payload: VaultPayload): Promise<void>;
  /** Forget the key, cancel the auto-lock timer, and tell the open pages ({@link ServiceDeps.announceLocked}). */
  lock(): Promise<void>;
  /** An account as the popup may see it: no secret, the current code. */
  view(account: VaultAccount): AccountView;
  /** What the popup's list shows of an open vault: every account as {@link view} gives it, and the settings. */
  list(vault: UnlockedVault): VaultListing;
  /** What the top frame of the tab offers, or null when the extension has no access to it or it does not answer in time. */
  probe(tabId: number): Promise<PageProbe | null>;
  /**
   * Run a page function that acts on the page; no access, or no answer within {@link pageTimeoutMs}, becomes a
   * refusal the person can act on.
   */
  runInPage<A extends unknown[]>(tabId: number, func: (...args: A) => PageResult, args: A): Promise<PageResult>;
  /** The keyboard shortcut could not fill: why, for the popup it opens instead ({@link takeShortcutRefusal}). */
  noteShortcutRefusal(text: string): void;
  /** Why the keyboard shortcut just could not fill (once, and only within {@link SHORTCUT_REFUSAL_MS}), or null. */
  takeShortcutRefusal(): string | null;
}

/**
 * How long the background waits for a function it runs in a page. `executeScript` runs it on the page's main
 * thread once the page is loaded, so a page that never finishes loading (a response that keeps dripping) or
 * never yields (a busy loop, an open `alert`) would otherwise never answer — and as requests run one at a
 * time, Lock now, the auto-lock and every other popup would wait behind it for as long as the page likes
 * (QA, found in Chromium: the key stayed in storage after Lock now). A page on the index answers in well
 * under a second.
 */
export const PAGE_TIMEOUT_MS = 5_000;

/** How long the shortcut's refusal waits for the popup it opens: that popup asks within a second. */
export const SHORTCUT_REFUSAL_MS = 15_000;

/** One request type's handler: the request in, its response payload out; refusals are thrown. */
export type Handler<K extends Request['type']> = (ctx: HandlerContext, request: Extract<Request, { type: K }>) => Promise<ResponseMap[K]>;

/** The contract's code inputs, in order of preference. */
export const CODE_SELECTORS = [DOM.totpInputSelector, DOM.oneTimeCodeSelector] as const;

/** The page functions' refusals in plain words. */
export const PAGE_REFUSALS: Record<Exclude<PageResult, { ok: true }>['reason'], string> = {
  'not-top-frame': 'Refused: the code field is inside a frame. Latchkey fills only the page itself.',
  'wrong-origin': 'Refused: the page changed to another site before the code could be filled.',
  'no-field': 'This page has no two-factor code field. Open the two-factor step of the login first.',
  'field-disabled': 'The code field on this page is disabled.',
  'no-security-key': 'This page does not offer a security key.',
  'too-late': 'The page did not respond in time, so Latchkey did nothing there (no code was filled). Try again once the page has loaded.',
};

/** A page function that did not answer within {@link PAGE_TIMEOUT_MS}. */
class PageTimeoutError extends Error {
  override name = 'PageTimeoutError';
}

/** Whether `payload`'s accounts are in its last exported backup. */
export function backupStatus(payload: VaultPayload): BackupStatus {
  const lastAt = payload.lastBackupAt;
  return {
    lastAt,
    accountsSince: payload.accounts.filter((account) => lastAt === null || account.createdAt > lastAt).length,
    accounts: payload.accounts.length,
  };
}

/** Build the context the handlers share from the browser capabilities. */
export function createHandlerContext(deps: ServiceDeps): HandlerContext {
  let shortcutRefusal: { text: string; at: number } | null = null;
  const pageTimeoutMs = deps.pageTimeoutMs ?? PAGE_TIMEOUT_MS;

  /** `deps.inject`, given up after {@link PAGE_TIMEOUT_MS} (rejects with {@link PageTimeoutError}). */
  function injectWithin<A extends unknown[], R>(tabId: number, func: (...args: A) => R, args: A): Promise<R> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PageTimeoutError()), pageTimeoutMs);
    });
    return Promise.race([deps.inject(tabId, func, args), timeout]).finally(() => clearTimeout(timer));
  }

  const ctx: HandlerContext = {
    deps,
    kdf: deps.kdf ?? DEFAULT_KDF,
    pageTimeoutMs,

    pageDeadline() {
      return deps.now() + pageTimeoutMs - Math.round(pageTimeoutMs / 5);
    },

    noteShortcutRefusal(text) {
      shortcutRefusal = { text, at: deps.now() };
    },

    takeShortcutRefusal() {
      const refusal = shortcutRefusal;
      shortcutRefusal = null;
      return refusal && deps.now() - refusal.at < SHORTCUT_REFUSAL_MS ? refusal.text : null;
    },

    async startSession(vault) {
      const minutes = vault.payload.settings.autoLockMinutes;
      const expiresAt = deps.now() + minutes * 60_000;
      // Independent writes, so one wait rather than two: requests run one at a time (vault-service.ts), so no
      // lock can slip in between them.
      await Promise.all([deps.session.set({ key: vault.key, kdf: vault.kdf, autoLockMinutes: minutes, expiresAt }), deps.scheduleAutoLock(minutes)]);
      return expiresAt;
    },

    async openSession({ activity = true } = {}) {
      // The key and the records at once: the popup's first screen waits on this.
      const [current, stored] = await Promise.all([deps.session.get(deps.now()), readVault(deps.storage)]);
      if (!current) return { vault: null, stored, lockAt: null };
      let vault: UnlockedVault;
      try {
        vault = openVault(stored, current.key, current.kdf);
      } catch (error) {
        await ctx.lock();
        // Storage changed behind the session's back: lock, and say why (the unlock then reports it again).
        throw new UserFacingError(error instanceof VaultRollbackError ? `The vault was locked. ${error.message}` : 'The vault is locked.', 'locked');
      }
      // Only what the person does keeps the vault open (auto-lock is "minutes unused").
      const lockAt = activity ? await ctx.startSession(vault) : current.expiresAt;
      return { vault, stored, lockAt };
    },

    async requireOpen() {
      const { vault } = await ctx.openSession();
      if (!vault) throw new UserFacingError('The vault is locked.', 'locked');
      return vault;
    },

    async save(vault, payload) {
      await writeVault(deps.storage, vault.key, vault.kdf, payload);
      await rememberAccountOrigins(deps.storage, payload);
    },

    async lock() {
      await deps.session.clear();
      await deps.scheduleAutoLock(null);
      // Every open page that shows codes leaves them now, not when their period ends.
      deps.announceLocked();
    },

    view(account) {
      const { id, issuer, label, origin, digits, period } = account;
      const now = deps.now();
      return { id, issuer, label, origin, digits, period, code: currentCode(account, now), validUntil: codeValidUntil(period, now) };
    },

    list(vault) {
      return { accounts: vault.payload.accounts.map((account) => ctx.view(account)), settings: vault.payload.settings, backup: backupStatus(vault.payload) };
    },

    async probe(tabId) {
      try {
        return await injectWithin(tabId, probePage, [CODE_SELECTORS, DOM.webauthnBeginButtonId]);
      } catch {
        return null; // no access to this page, or it did not answer: nothing to offer there
      }
    },

    async runInPage(tabId, func, args) {
      try {
        return await injectWithin(tabId, func, args);
      } catch (error) {
        if (error instanceof PageTimeoutError) throw new UserFacingError(PAGE_REFUSALS['too-late'], 'refused');
        throw new UserFacingError(
          'Latchkey has no access to this page. Click the Latchkey toolbar button on the page itself, or allow the site in the extension settings.',
          'refused',
        );
      }
    },
  };
  return ctx;
}
