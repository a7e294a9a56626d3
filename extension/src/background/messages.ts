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

export interface ImportReport {
  added: number;
  duplicates: string[];
  conflicts: string[];
  errors: Array<{ line: number; message: string }>;
}

/** Requests from the popup to the background; the background owns the key and the vault. */
export type Request =
  | { type: 'status' }
  | { type: 'create'; passphrase: string }
  | { type: 'unlock'; passphrase: string }
  | { type: 'lock' }
  | { type: 'codes' }
  | { type: 'tab-context'; tabId: number | null }
  | { type: 'add-account'; account: AccountInput }
  | { type: 'update-account'; id: string; issuer: string; label: string; origin: string }
  | { type: 'delete-account'; id: string }
  | { type: 'fill'; id: string; tabId: number }
  | { type: 'security-key'; tabId: number }
  | { type: 'save-settings'; settings: VaultSettings }
  | { type: 'change-passphrase'; current: string; next: string }
  | { type: 'export' }
  | { type: 'import'; text: string; passphrase?: string; origin: string };

/** Response payload for each request type. */
export interface ResponseMap {
  /** Unlocked: also the list's accounts and settings, as `codes` gives them (the popup's first screen in one request). */
  status: { state: 'none' } | { state: 'locked' } | ({ state: 'unlocked' } & ResponseMap['codes']);
  create: { state: 'unlocked' };
  /** `rollback`: what to tell the person when the vault opened is an older copy than one written before. */
  /** `accounts`: the codes, so the popup shows them without a second round trip. */
  unlock: { state: 'unlocked'; restoredFromPrevious: boolean; rollback: string | null; accounts: AccountView[] };
  lock: { state: 'locked' };
  codes: { accounts: AccountView[]; settings: VaultSettings };
  'tab-context': TabContext;
  'add-account': { account: AccountView };
  'update-account': { account: AccountView };
  'delete-account': Record<string, never>;
  fill: { submitted: boolean };
  'security-key': Record<string, never>;
  'save-settings': { settings: VaultSettings };
  'change-passphrase': Record<string, never>;
  export: { filename: string; text: string };
  import: ImportReport;
}

/** Every answer is either ok with its payload, or a message meant for the person using the popup. */
export type Response<T extends Request['type']> = ({ ok: true } & ResponseMap[T]) | { ok: false; error: string; code?: ErrorCode };

/** Machine-readable error kinds the popup reacts to (e.g. go back to the unlock screen). */
export type ErrorCode = 'locked' | 'wrong-passphrase' | 'needs-passphrase' | 'refused';
