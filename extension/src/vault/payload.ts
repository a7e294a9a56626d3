import { validateTotpAccount, type TotpAccountParams } from '@latchkey/shared';
import { normalizeOrigin } from './origin.js';

/** One TOTP account in the vault. `origin` is the only page the code may ever be filled into. */
export interface VaultAccount extends TotpAccountParams {
  id: string;
  /** Exact scheme://host[:port], see normalizeOrigin. */
  origin: string;
  /** When the account came into this vault (added, or imported): the Backup card counts those after the last export. */
  createdAt: number;
}

export interface VaultSettings {
  /** Lock this many minutes after the vault was last used (1..1440). */
  autoLockMinutes: number;
  /** Submit the two-factor form right after filling. */
  autoSubmit: boolean;
}

/** Everything the vault encrypts. */
export interface VaultPayload {
  accounts: VaultAccount[];
  settings: VaultSettings;
  /** When a backup of this vault was last exported (ms since the epoch); null before the first. */
  lastBackupAt: number | null;
}

export const DEFAULT_SETTINGS: VaultSettings = Object.freeze({ autoLockMinutes: 15, autoSubmit: false });
export const AUTO_LOCK_LIMITS = { min: 1, max: 1440 } as const;

export function emptyPayload(): VaultPayload {
  return { accounts: [], settings: { ...DEFAULT_SETTINGS }, lastBackupAt: null };
}

/**
 * Validate a decrypted payload. Decryption already proved it is ours, so a failure here means a
 * programming error or a future format — refuse rather than guess.
 */
export function parsePayload(value: unknown): VaultPayload {
  if (!isObject(value) || !Array.isArray(value.accounts) || !isObject(value.settings)) {
    throw new Error('The vault contents are not in a known format.');
  }
  const accounts = value.accounts.map((raw): VaultAccount => {
    if (!isObject(raw) || typeof raw.id !== 'string' || typeof raw.origin !== 'string') {
      throw new Error('The vault contains an unreadable account.');
    }
    const params = validateTotpAccount({
      issuer: String(raw.issuer ?? ''),
      label: String(raw.label ?? ''),
      secret: String(raw.secret ?? ''),
      algorithm: String(raw.algorithm ?? ''),
      digits: Number(raw.digits),
      period: Number(raw.period),
    });
    return { id: raw.id, ...params, origin: normalizeOrigin(raw.origin), createdAt: Number(raw.createdAt) || 0 };
  });
  // Vaults written before backups were tracked have no time: as if never backed up (the safe reading).
  const lastBackupAt = Number.isSafeInteger(value.lastBackupAt) ? (value.lastBackupAt as number) : null;
  return { accounts, settings: parseSettings(value.settings), lastBackupAt };
}

export function parseSettings(value: unknown): VaultSettings {
  if (!isObject(value)) throw new Error('Settings are not in a known format.');
  const minutes = Number(value.autoLockMinutes);
  if (!Number.isInteger(minutes) || minutes < AUTO_LOCK_LIMITS.min || minutes > AUTO_LOCK_LIMITS.max) {
    throw new Error(`Auto-lock must be a whole number of minutes from ${AUTO_LOCK_LIMITS.min} to ${AUTO_LOCK_LIMITS.max}.`);
  }
  return { autoLockMinutes: minutes, autoSubmit: value.autoSubmit === true };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
