import { deriveVaultKey, DEFAULT_KDF, SALT_BYTES, type KdfHeader, type KdfParams } from './kdf.js';
import { toBase64, utf8 } from './encoding.js';
import { emptyPayload, parsePayload, type VaultPayload } from './payload.js';
import {
  openRecord,
  parseRecord,
  sealRecord,
  serializeRecord,
  VaultAuthError,
  VaultFormatError,
  type VaultRecord,
} from './record.js';

/** The subset of `browser.storage.local` the vault uses (so tests can pass an in-memory fake). */
export interface VaultStorageArea {
  get(keys: string[]): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string[]): Promise<void>;
}

/** Storage keys: the current record and the last verified one kept as a fallback. */
export const VAULT_KEYS = { primary: 'vault', previous: 'vault.previous' } as const;

/** An open vault: the derived key (never the passphrase), its header, and the decrypted contents. */
export interface UnlockedVault {
  key: Uint8Array;
  kdf: KdfHeader;
  payload: VaultPayload;
  /** True when the current record was unreadable and the previous one was used instead. */
  restoredFromPrevious: boolean;
}

export class VaultMissingError extends Error {
  override name = 'VaultMissingError';
}
export class VaultExistsError extends Error {
  override name = 'VaultExistsError';
}
export class VaultWriteError extends Error {
  override name = 'VaultWriteError';
}

interface StoredRecords {
  primary: { text: unknown; record: VaultRecord | null } | null;
  previous: { text: unknown; record: VaultRecord | null } | null;
}

async function loadRecords(storage: VaultStorageArea): Promise<StoredRecords> {
  const items = await storage.get([VAULT_KEYS.primary, VAULT_KEYS.previous]);
  const load = (text: unknown) => {
    if (text === undefined) return null;
    try {
      return { text, record: parseRecord(text) };
    } catch {
      return { text, record: null };
    }
  };
  return { primary: load(items[VAULT_KEYS.primary]), previous: load(items[VAULT_KEYS.previous]) };
}

/** Whether a vault (even a damaged one) is stored: the popup then asks to unlock rather than to create. */
export async function vaultExists(storage: VaultStorageArea): Promise<boolean> {
  const { primary, previous } = await loadRecords(storage);
  return primary !== null || previous !== null;
}

/**
 * Create an empty vault protected by `passphrase`. Refuses when one exists (never overwrites).
 * @param kdf cost parameters; tests pass cheap ones explicitly, everything else uses the default.
 */
export async function createVault(
  storage: VaultStorageArea,
  passphrase: string,
  kdf: KdfParams = DEFAULT_KDF,
): Promise<UnlockedVault> {
  if (await vaultExists(storage)) throw new VaultExistsError('A vault already exists.');
  const header = newKdfHeader(kdf);
  const key = await deriveVaultKey(passphrase, header, saltOf(header));
  const payload = emptyPayload();
  await writeVault(storage, key, header, payload);
  return { key, kdf: header, payload, restoredFromPrevious: false };
}

/**
 * Derive the key from `passphrase` and open the vault. Read-only: a wrong passphrase throws
 * {@link VaultAuthError} and leaves storage untouched, however often it is tried.
 */
export async function unlockVault(storage: VaultStorageArea, passphrase: string): Promise<UnlockedVault> {
  const records = await loadRecords(storage);
  const header = (records.primary?.record ?? records.previous?.record)?.kdf;
  if (header === undefined) throw missingOrDamaged(records);
  const key = await deriveVaultKey(passphrase, header, saltOf(header));
  return { key, kdf: header, ...openWithKey(records, key, header) };
}

/** Open the vault with a key kept from an earlier unlock (no KDF run). */
export async function openVault(storage: VaultStorageArea, key: Uint8Array, kdf: KdfHeader): Promise<UnlockedVault> {
  const records = await loadRecords(storage);
  return { key, kdf, ...openWithKey(records, key, kdf) };
}

/**
 * Try the current record, then the previous one — but the previous one only when it was sealed
 * under the same KDF header (same passphrase and salt). After a passphrase change the old record
 * must never open with the old passphrase.
 */
function openWithKey(
  records: StoredRecords,
  key: Uint8Array,
  kdf: KdfHeader,
): { payload: VaultPayload; restoredFromPrevious: boolean } {
  const candidates = [records.primary?.record, records.previous?.record];
  let sawRecord = false;
  for (const [index, record] of candidates.entries()) {
    if (!record || !sameHeader(record.kdf, kdf)) continue;
    sawRecord = true;
    try {
      const payload = parsePayload(JSON.parse(utf8.decode(openRecord(key, record))));
      return { payload, restoredFromPrevious: index > 0 };
    } catch (error) {
      if (!(error instanceof VaultAuthError)) throw error;
    }
  }
  if (!sawRecord && records.primary === null && records.previous === null) throw missingOrDamaged(records);
  throw new VaultAuthError('Wrong passphrase.');
}

/**
 * Replace the vault contents. Order (each step must succeed before the next):
 * 1. seal with a fresh nonce; 2. parse and decrypt the sealed text and compare — a record that
 * cannot be read back is never stored; 3. copy the current record, if it verifies under
 * `previousKey` (default `key`), to the fallback slot; 4. store the new record; 5. read it back.
 * A failure at any step leaves at least one record that opens (tested by failing storage mid-write).
 */
export async function writeVault(
  storage: VaultStorageArea,
  key: Uint8Array,
  kdf: KdfHeader,
  payload: VaultPayload,
  options: { previousKey?: Uint8Array; previousKdf?: KdfHeader } = {},
): Promise<void> {
  const plaintext = utf8.encode(JSON.stringify(payload));
  const text = serializeRecord(sealRecord(key, kdf, plaintext));
  const check = openRecord(key, parseRecord(text));
  if (!equalBytes(check, plaintext)) throw new VaultWriteError('The new vault record did not verify; nothing was changed.');

  const current = (await storage.get([VAULT_KEYS.primary]))[VAULT_KEYS.primary];
  if (current !== undefined && opensWith(current, options.previousKey ?? key, options.previousKdf ?? kdf)) {
    await storage.set({ [VAULT_KEYS.previous]: current });
  }
  await storage.set({ [VAULT_KEYS.primary]: text });
  const stored = (await storage.get([VAULT_KEYS.primary]))[VAULT_KEYS.primary];
  if (stored !== text) throw new VaultWriteError('The vault record did not read back as written.');
}

/**
 * Re-encrypt everything under a new passphrase (new salt, current default cost). The old record is
 * the fallback until the new one is stored and verified, then it is removed so the old passphrase
 * stops working. Throws {@link VaultAuthError} for a wrong current passphrase, changing nothing.
 */
export async function changePassphrase(
  storage: VaultStorageArea,
  currentPassphrase: string,
  newPassphrase: string,
  kdf: KdfParams = DEFAULT_KDF,
): Promise<UnlockedVault> {
  const current = await unlockVault(storage, currentPassphrase);
  const header = newKdfHeader(kdf);
  const key = await deriveVaultKey(newPassphrase, header, saltOf(header));
  await writeVault(storage, key, header, current.payload, { previousKey: current.key, previousKdf: current.kdf });
  await storage.remove([VAULT_KEYS.previous]);
  return { key, kdf: header, payload: current.payload, restoredFromPrevious: false };
}

export function newKdfHeader(kdf: KdfParams): KdfHeader {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return { alg: kdf.alg, m: kdf.m, t: kdf.t, p: kdf.p, salt: toBase64(salt) };
}

function saltOf(header: KdfHeader): Uint8Array {
  return Uint8Array.from(atob(header.salt), (c) => c.charCodeAt(0));
}

function opensWith(text: unknown, key: Uint8Array, kdf: KdfHeader): boolean {
  try {
    const record = parseRecord(text);
    if (!sameHeader(record.kdf, kdf)) return false;
    openRecord(key, record);
    return true;
  } catch {
    return false;
  }
}

function sameHeader(a: KdfHeader, b: KdfHeader): boolean {
  return a.alg === b.alg && a.m === b.m && a.t === b.t && a.p === b.p && a.salt === b.salt;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function missingOrDamaged(records: StoredRecords): Error {
  return records.primary === null && records.previous === null
    ? new VaultMissingError('No vault has been created yet.')
    : new VaultFormatError('The stored vault is damaged and cannot be read. Restore it from an exported backup.');
}
