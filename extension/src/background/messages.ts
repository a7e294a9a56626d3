import type { VaultSettings } from '../vault/payload.js';

/** An account as the popup sees it: everything but the secret, plus the current code. */
export interface AccountView {
  id: string;
  issuer: string;
  label: string;
  origin: string;
  digits: number;
  period: number;
  code: string;
  /** When `code`'s period ends (ms since the epoch): the popup asks for fresh codes then. */
  validUntil: number;
}

/** What the popup knows about the active tab. */
export interface TabContext {
  tabId: number | null;
  /** null when the page has no web origin or the extension may not see its address. */
  origin: string | null;
  hasCodeField: boolean;
  hasSecurityKey: boolean;
}

/** Manual or pasted account input from the add form. */
export interface AccountInput {
  uri?: string;
  issuer?: string;
  label?: string;
  secret?: string;
  origin: string;
}

/** An account an import left out, and the account it ran into. */
export interface ImportSkip {
  /** "Issuer: name", as the file has it (each part in Unicode isolates: describeAccount). */
  name: string;
  /** Its line in a file of links (from 1); null in a backup, whose accounts have no lines. */
  line: number | null;
  /**
   * What it ran into: an account already in the vault (named as it is there, which may differ from the file's
   * name for the same secret), or one added from earlier in the same file.
   */
  sameAs: { in: 'vault'; name: string } | { in: 'file'; name: string; line: number | null };
}

export interface ImportReport {
  added: number;
  /** The same secret for the same site as an account already there: nothing to do. */
  duplicates: ImportSkip[];
  /** The same name and site as an account already there but another secret: left out, nothing overwritten. */
  conflicts: ImportSkip[];
  errors: Array<{ line: number; message: string }>;
}

/** Requests from the popup to the background; the background owns the key and the vault. */
export type Request =
  | { type: 'status' }
  | { type: 'create'; passphrase: string }
  | { type: 'unlock'; passphrase: string }
  | { type: 'lock' }
  /** `confirm`: what the person typed to confirm; the vault is erased only when it {@link confirmsErase}. */
  | { type: 'erase-vault'; confirm: string }
  /**
   * `refresh`: the open list renewing its codes on a timer, not something the person did — it does not push
   * the auto-lock back (else a popup left open would never lock).
   */
  | { type: 'codes'; refresh?: boolean }
  | { type: 'tab-context'; tabId: number | null }
  /** How far the tab's site's clock is from this computer's, for the clock warning (handlers/clock-offset.ts). */
  | { type: 'clock-offset'; tabId: number }
  | { type: 'add-account'; account: AccountInput }
  | { type: 'update-account'; id: string; issuer: string; label: string; origin: string }
  | { type: 'delete-account'; id: string }
  | { type: 'fill'; id: string; tabId: number }
  | { type: 'security-key'; tabId: number }
  | { type: 'save-settings'; settings: VaultSettings }
  | { type: 'change-passphrase'; current: string; next: string }
  | { type: 'export' }
  | { type: 'import'; text: string; passphrase?: string; origin: string };

/** Whether the vault's accounts are in a backup: the only way back from a forgotten passphrase. */
export interface BackupStatus {
  /** When a backup was last exported (ms since the epoch); null: never. */
  lastAt: number | null;
  /** Accounts added after that backup (all of them when there was none): in no backup yet. */
  accountsSince: number;
  /** Accounts in the vault. */
  accounts: number;
}

/** What the popup's list shows of an open vault: every account with its current code, the settings, whether they are backed up. */
export interface VaultListing {
  accounts: AccountView[];
  settings: VaultSettings;
  backup: BackupStatus;
}

/** Response payload for each request type. */
export interface ResponseMap {
  /**
   * Unlocked: also the list's accounts and settings, as `codes` gives them (the popup's first screen in one request),
   * and why the keyboard shortcut, pressed just before, opened the popup instead of filling (null: it did not).
   */
  status: { state: 'none' } | { state: 'locked' } | ({ state: 'unlocked'; shortcutRefusal: string | null } & VaultListing);
  create: { state: 'unlocked' };
  /** `rollback`: what to tell the person when the vault opened is an older copy than one written before. */
  /** `accounts`: the codes, so the popup shows them without a second round trip. */
  unlock: { state: 'unlocked'; restoredFromPrevious: boolean; rollback: string | null; accounts: AccountView[] };
  lock: { state: 'locked' };
  'erase-vault': { state: 'none' };
  /** `lockAt`: when the auto-lock will lock the vault unless the person does something (ms since the epoch). */
  codes: VaultListing & { lockAt: number };
  'tab-context': TabContext;
  /**
   * `offsetMs`: how far the site's clock is ahead of this computer's (negative: behind), from its `Date` header;
   * null when not measured (no account or no access there, locked, the site did not answer, no date).
   */
  'clock-offset': { origin: string | null; offsetMs: number | null };
  'add-account': { account: AccountView };
  'update-account': { account: AccountView };
  'delete-account': Record<string, never>;
  fill: { submitted: boolean };
  'security-key': Record<string, never>;
  'save-settings': { settings: VaultSettings };
  'change-passphrase': Record<string, never>;
  export: { filename: string; text: string; backup: BackupStatus };
  /** `backup`: the Backup card's line after the import (the accounts it added are in no backup yet). */
  import: ImportReport & { backup: BackupStatus };
}

/** Every answer is either ok with its payload, or a message meant for the person using the popup. */
export type Response<T extends Request['type']> = ({ ok: true } & ResponseMap[T]) | { ok: false; error: string; code?: ErrorCode };

/** Machine-readable error kinds the popup reacts to (e.g. go back to the unlock screen). */
export type ErrorCode =
  | 'locked'
  | 'wrong-passphrase'
  | 'needs-passphrase'
  | 'refused'
  /** The account's link or fields are wrong: the popup shows the message on the field it is about. */
  | 'invalid-input';

/**
 * What the background announces to the extension's open pages after every lock (Lock now in another page,
 * the auto-lock, an erase, a session ended by an older vault copy). A page still showing codes — Firefox's
 * Import tab, a second popup — otherwise kept them, live, until their period ended (up to 300 s). Not a
 * request: the background's own listener never gets it (a sender's own listeners are skipped).
 */
export const LOCKED_ANNOUNCEMENT = { announcement: 'locked' } as const;

/** Whether `message` is {@link LOCKED_ANNOUNCEMENT}. */
export function isLockedAnnouncement(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { announcement?: unknown }).announcement === LOCKED_ANNOUNCEMENT.announcement;
}

/** The word the person types to erase a vault whose passphrase is forgotten. */
export const ERASE_CONFIRMATION = 'erase';

/** Whether `typed` confirms erasing the vault (case and surrounding spaces do not matter). */
export function confirmsErase(typed: string): boolean {
  return typed.trim().toLowerCase() === ERASE_CONFIRMATION;
}
