import { deriveVaultKey, DEFAULT_KDF, SALT_BYTES, type KdfHeader, type KdfParams } from './kdf.js';
import { toBase64, utf8 } from './encoding.js';
import { emptyPayload, parsePayload, type VaultPayload } from './payload.js';
import { type HighWaterMarks, raiseHighWaterMark, readHighWaterMarks } from './high-water-mark.js';
import {
  MAX_RECORD_CHARS,
  newVaultId,
  openRecord,
  parseRecord,
  sealRecord,
  serializeRecord,
  VaultAuthError,
  VaultFormatError,
  type VaultRecord,
} from './record.js';

/** The subset of `browser.storage.*` the vault uses (so tests can pass an in-memory fake). */
export interface VaultStorageArea {
  get(keys: string[]): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string[]): Promise<void>;
  /**
   * Areas besides this one that also keep the rollback high-water mark (see {@link vaultStorage}).
   * Without them the mark lives only beside the records, which catches one record swapped for an
   * older copy but not the whole area restored from an old copy.
   */
  readonly markAreas?: readonly VaultStorageArea[];
}

/**
 * The records' area (`storage.local`) with the other areas that keep the high-water mark: the background
 * passes `storage.sync` (outside the local profile's extension storage, and on the browser account's
 * other devices when sync is on) and `storage.session` (memory only: a swap while the browser runs).
 */
export function vaultStorage(records: VaultStorageArea, markAreas: readonly VaultStorageArea[]): VaultStorageArea {
  return {
    get: (keys) => records.get(keys),
    set: (items) => records.set(items),
    remove: (keys) => records.remove(keys),
    markAreas,
  };
}

/** Storage keys: the current record and the last verified one kept as a fallback. */
export const VAULT_KEYS = { primary: 'vault', previous: 'vault.previous' } as const;

/** The record opened is older than the newest this browser remembers writing, or is no vault this browser wrote. */
export interface Rollback {
  /** The opened record's counter. */
  found: number;
  /** The highest counter remembered for this vault (0 when `foreign`: none is remembered for its id). */
  expected: number;
  /**
   * The record opens with the key but carries a vault id no mark area knows, while they know another
   * vault: not a record this browser wrote. An exported backup is sealed under the vault's own key and
   * header with an id of its own, so a backup file's record put in the vault's place is one.
   */
  foreign?: true;
}

/** An open vault: the derived key (never the passphrase), its header, and the decrypted contents. */
export interface UnlockedVault {
  key: Uint8Array;
  kdf: KdfHeader;
  payload: VaultPayload;
  /** True when the current record was unreadable (or older) and the previous one was used instead. */
  restoredFromPrevious: boolean;
  /**
   * Set when the record opened is older than one written before: the previous copy swapped in, or
   * storage restored from an old copy. The person must be told; the next write continues above it.
   */
  rollback: Rollback | null;
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
/** An open session found an older record than the one it wrote: storage was changed behind its back. */
export class VaultRollbackError extends Error {
  override name = 'VaultRollbackError';
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

/**
 * What is stored, from what {@link readVault} read: null when no vault is (the popup then asks to create
 * one); otherwise a vault, even a damaged one (the popup asks to unlock), with the KDF header an unlock
 * would derive with (the current record's, else the fallback's) when a record is readable.
 */
export function storedVault({ records }: Pick<StoredVaultState, 'records'>): { kdf: KdfHeader | undefined } | null {
  if (records.primary === null && records.previous === null) return null;
  return { kdf: (records.primary?.record ?? records.previous?.record)?.kdf };
}

/**
 * Create an empty vault protected by `passphrase`. Refuses when one exists (never overwrites).
 * @param kdf cost parameters; tests pass cheap ones explicitly, everything else uses the default.
 */
export async function createVault(storage: VaultStorageArea, passphrase: string, kdf: KdfParams = DEFAULT_KDF): Promise<UnlockedVault> {
  if (storedVault({ records: await loadRecords(storage) }) !== null) throw new VaultExistsError('A vault already exists.');
  const header = newKdfHeader(kdf);
  const key = await deriveVaultKey(passphrase, header, saltOf(header));
  const payload = emptyPayload();
  await writeVault(storage, key, header, payload);
  return { key, kdf: header, payload, restoredFromPrevious: false, rollback: null };
}

/**
 * Derive the key from `passphrase` and open the vault. Read-only: a wrong passphrase throws
 * {@link VaultAuthError} and leaves storage untouched, however often it is tried.
 */
export async function unlockVault(storage: VaultStorageArea, passphrase: string): Promise<UnlockedVault> {
  const { records, marks } = await readVault(storage);
  const header = (records.primary?.record ?? records.previous?.record)?.kdf;
  if (header === undefined) throw missingOrDamaged(records);
  const key = await deriveVaultKey(passphrase, header, saltOf(header));
  const opened = openWithKey(records, key, header);
  return { key, kdf: header, ...opened, rollback: rollbackOf(marks, opened.record) };
}

/** What opening with a kept key needs from storage: the records and every area's high-water marks. */
export interface StoredVaultState {
  records: StoredRecords;
  marks: HighWaterMarks;
}

/** Read {@link StoredVaultState} in one wait on storage (the reads run at once). */
export async function readVault(storage: VaultStorageArea): Promise<StoredVaultState> {
  const [records, marks] = await Promise.all([loadRecords(storage), readHighWaterMarks(markAreas(storage))]);
  return { records, marks };
}

/**
 * Open the vault with a key kept from an earlier unlock (no KDF run), from what {@link readVault} read
 * (so the caller can read it beside the key itself). Throws {@link VaultRollbackError} when the record
 * is older than one written before: mid-session that can only be storage changed behind the extension's
 * back, so the session must end and the next unlock reports it.
 */
export function openVault(stored: StoredVaultState, key: Uint8Array, kdf: KdfHeader): UnlockedVault {
  const opened = openWithKey(stored.records, key, kdf);
  const rollback = rollbackOf(stored.marks, opened.record);
  if (rollback) throw new VaultRollbackError(rollbackMessage(rollback));
  return { key, kdf, ...opened, rollback };
}

/** What to tell the person about a rollback, in plain words. */
export function rollbackMessage(rollback: Rollback): string {
  if (rollback.foreign) {
    return 'The stored vault is not the one this browser saved: an exported backup (or another copy) was put in its place. Changes made since that copy (accounts added, edited or deleted) may be missing. Check your accounts.';
  }
  return `The stored vault is an older copy (write ${rollback.found}; this browser saved write ${rollback.expected}). Someone or something may have put back an old copy: changes made since then (accounts added, edited or deleted) are missing. Check your accounts.`;
}

function rollbackOf(marks: HighWaterMarks, record: VaultRecord): Rollback | null {
  const counter = marks.counterOf(record.id);
  // Every write raises the mark for its id (beside the record, too) before the write returns — a brand-new
  // vault's first one even before its record is stored — so a
  // version 2 record with an id no area knows, while they know another vault, was not written here: a
  // backup file's record swapped in (it opens with the same key) would otherwise pass as a fresh vault at
  // counter 1 and hide every change since the export (QA: not caught, not even with storage.sync's mark).
  if (record.v === 2 && counter === 0 && marks.anyVault) return { found: record.counter, expected: 0, foreign: true };
  // A version 1 record has no id: opened after this browser wrote any version 2 record, it is an old copy.
  const expected = record.v === 1 && marks.anyVault ? Math.max(1, counter) : counter;
  return expected > record.counter ? { found: record.counter, expected } : null;
}

function markAreas(storage: VaultStorageArea): VaultStorageArea[] {
  return [storage, ...(storage.markAreas ?? [])];
}

/**
 * Open the newest record (highest authenticated counter) of the current and the previous one — but
 * the previous one only when it was sealed under the same KDF header (same passphrase and salt).
 * After a passphrase change the old record must never open with the old passphrase.
 */
function openWithKey(records: StoredRecords, key: Uint8Array, kdf: KdfHeader): { payload: VaultPayload; restoredFromPrevious: boolean; record: VaultRecord } {
  let best: { payload: VaultPayload; restoredFromPrevious: boolean; record: VaultRecord } | null = null;
  for (const [index, record] of [records.primary?.record, records.previous?.record].entries()) {
    if (!record || !sameHeader(record.kdf, kdf)) continue;
    let payload: VaultPayload;
    try {
      payload = parsePayload(JSON.parse(utf8.decode(openRecord(key, record))));
    } catch (error) {
      if (!(error instanceof VaultAuthError)) throw error;
      continue;
    }
    if (best === null || record.counter > best.record.counter) best = { payload, restoredFromPrevious: index > 0, record };
  }
  if (best) return best;
  if (records.primary === null && records.previous === null) throw missingOrDamaged(records);
  throw new VaultAuthError('Wrong passphrase.');
}

/**
 * Replace the vault contents. Order (each step must succeed before the next):
 * 1. seal with a fresh nonce, the vault's id and the next counter (above every record that opens and
 * every high-water mark); 2. parse and decrypt the sealed text and compare — a record that cannot be
 * read back is never stored; 3. copy the current record, if it verifies under `previousKey` (default
 * `key`), to the fallback slot; 4. store the new record; 5. read it back; 6. raise the high-water mark
 * (after the record, so a crash in between leaves a record newer than the mark, never older).
 * A failure at any step leaves at least one record that opens (tested by failing storage mid-write).
 */
export async function writeVault(
  storage: VaultStorageArea,
  key: Uint8Array,
  kdf: KdfHeader,
  payload: VaultPayload,
  options: { previousKey?: Uint8Array; previousKdf?: KdfHeader } = {},
): Promise<void> {
  const [stored, marks] = await Promise.all([storage.get([VAULT_KEYS.primary, VAULT_KEYS.previous]), readHighWaterMarks(markAreas(storage))]);
  const previousKey = options.previousKey ?? key;
  const previousKdf = options.previousKdf ?? kdf;
  const current = authenticated(stored[VAULT_KEYS.primary], previousKey, previousKdf);
  const before = authenticated(stored[VAULT_KEYS.previous], previousKey, previousKdf);
  // Version 1 records have the empty id: the first version 2 write gives the vault its id.
  const id = current?.id || before?.id || newVaultId();
  const counter = Math.max(current?.counter ?? 0, before?.counter ?? 0, marks.counterOf(id)) + 1;

  const plaintext = utf8.encode(JSON.stringify(payload));
  const text = serializeRecord(sealRecord(key, kdf, { id, counter }, plaintext));
  // Said as what it means for the change at hand (an import, an added account), not as a damaged record.
  if (text.length > MAX_RECORD_CHARS) {
    throw new VaultWriteError('The vault would be too large to store (over 4 MiB): nothing was changed. Remove accounts you no longer use, or import fewer.');
  }
  const check = openRecord(key, parseRecord(text));
  if (!equalBytes(check, plaintext)) throw new VaultWriteError('The new vault record did not verify; nothing was changed.');

  // A brand-new vault (nothing stored) is marked before its first record: stopped between the two, a
  // mark without a record is harmless, while the record without its mark would read as a foreign copy
  // (rollbackOf) when the marks remember an erased vault. Later writes mark after the record, as an
  // earlier mark with the old record still in place would read as a rollback.
  const brandNew = !current && !before && marks.counterOf(id) === 0;
  if (brandNew) await raiseHighWaterMark(markAreas(storage), id, counter);
  if (current) await storage.set({ [VAULT_KEYS.previous]: stored[VAULT_KEYS.primary] });
  await storage.set({ [VAULT_KEYS.primary]: text });
  const readBack = (await storage.get([VAULT_KEYS.primary]))[VAULT_KEYS.primary];
  if (readBack !== text) throw new VaultWriteError('The vault record did not read back as written.');
  await raiseHighWaterMark(markAreas(storage), id, counter);
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
  return { key, kdf: header, payload: current.payload, restoredFromPrevious: false, rollback: null };
}

/**
 * Remove the vault's records, current and fallback, and the items in `alongside` (what is kept about the vault
 * beside it, e.g. its accounts' sites), in one storage call: the only way out of a forgotten passphrase, which
 * nothing can recover. The rollback marks stay: they are per vault id, a new vault gets a new one, and an old
 * copy of the erased vault put back later is still reported as older.
 */
export async function eraseVault(storage: VaultStorageArea, alongside: readonly string[] = []): Promise<void> {
  await storage.remove([VAULT_KEYS.primary, VAULT_KEYS.previous, ...alongside]);
}

export function newKdfHeader(kdf: KdfParams): KdfHeader {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return { alg: kdf.alg, m: kdf.m, t: kdf.t, p: kdf.p, salt: toBase64(salt) };
}

function saltOf(header: KdfHeader): Uint8Array {
  return Uint8Array.from(atob(header.salt), (c) => c.charCodeAt(0));
}

/** The stored text as a record, when it parses and opens with `key` under `kdf`; otherwise null. */
function authenticated(text: unknown, key: Uint8Array, kdf: KdfHeader): VaultRecord | null {
  try {
    const record = parseRecord(text);
    if (!sameHeader(record.kdf, kdf)) return null;
    openRecord(key, record);
    return record;
  } catch {
    return null;
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
