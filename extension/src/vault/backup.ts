import { normalizeBase32Secret, OtpauthUriError, parseOtpauthUri, validateTotpAccount, type TotpAccountParams } from '@latchkey/shared';
import { BACKUP_FORMAT } from './backup-file-kind.js';
import { deriveVaultKey, type KdfHeader } from './kdf.js';
import { fromBase64, utf8 } from './encoding.js';
import { OriginError } from './origin.js';
import { parsePayload, type VaultAccount, type VaultPayload } from './payload.js';
import { newVaultId, openRecord, parseRecord, sealRecord, serializeRecord, VaultFormatError, type VaultRecord } from './record.js';

/**
 * An encrypted backup file: the vault record format (same AEAD, same KDF header) sealed afresh, so it
 * opens with the passphrase the vault had when it was exported — and with nothing else.
 */
export function exportBackup(key: Uint8Array, kdf: KdfHeader, payload: VaultPayload, now = Date.now()): string {
  // A backup is a copy, not the vault: its own id, and no place in the vault's counter sequence.
  const record = serializeRecord(sealRecord(key, kdf, { id: newVaultId(), counter: 1 }, utf8.encode(JSON.stringify(payload))));
  return `${JSON.stringify({ format: BACKUP_FORMAT, exportedAt: new Date(now).toISOString(), record }, null, 2)}\n`;
}

/** Decrypt a backup file with the passphrase it was exported under. */
export async function readBackup(text: string, passphrase: string): Promise<VaultAccount[]> {
  let wrapper: { format?: unknown; record?: unknown };
  try {
    wrapper = JSON.parse(text) as typeof wrapper;
  } catch {
    throw new VaultFormatError('This file is not a Latchkey backup.');
  }
  if (wrapper?.format !== BACKUP_FORMAT) throw new VaultFormatError('This file is not a Latchkey backup.');
  let record: VaultRecord;
  try {
    // Strict parsing bounds the KDF cost (kdf.ts KDF_LIMITS) before any derivation: a crafted file
    // cannot make the background spend seconds and a gigabyte per try.
    record = parseRecord(wrapper.record);
  } catch (error) {
    throw new VaultFormatError(
      `This backup cannot be opened. ${error instanceof Error ? error.message.replace(/^The vault record is malformed: /, '') : ''} It was not made by Latchkey, or it was altered.`,
    );
  }
  const key = await deriveVaultKey(passphrase, record.kdf, fromBase64(record.kdf.salt));
  const plaintext = openRecord(key, record); // a wrong passphrase: VaultAuthError, as it is
  return backupAccounts(plaintext);
}

/**
 * The accounts of a backup that opened. Its contents are checked like the vault's own; what fails is said in
 * plain words, as refusing the whole file (QA: a crafted or future-format backup showed "Something went
 * wrong: Unexpected token…", or an account's bad period or http:// site with no word that it was the backup's).
 */
function backupAccounts(plaintext: Uint8Array): VaultAccount[] {
  try {
    return parsePayload(JSON.parse(utf8.decode(plaintext))).accounts;
  } catch (error) {
    // The shared validators' messages name what is wrong with an account; the rest say nothing a person can use.
    const detail = error instanceof OtpauthUriError || error instanceof OriginError ? ` (an account in it: ${error.message.replace(/\.$/, '')})` : '';
    throw new VaultFormatError(
      `This backup opened with its passphrase, but its contents are not a vault this version of Latchkey can read${detail}. Nothing was imported.`,
    );
  }
}

/** A problem with one line of an otpauth import; `line` counts from 1. */
export interface ImportLineError {
  line: number;
  message: string;
}

/** Parse plain `otpauth://` URIs, one per line (blank lines and `#` comments ignored). */
export function parseOtpauthLines(text: string): { accounts: TotpAccountParams[]; errors: ImportLineError[] } {
  const accounts: TotpAccountParams[] = [];
  const errors: ImportLineError[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      accounts.push(parseOtpauthUri(line));
    } catch (error) {
      errors.push({ line: index + 1, message: error instanceof Error ? error.message : 'Unreadable line.' });
    }
  });
  return { accounts, errors };
}

/** Build a vault account from validated parameters (fresh id). */
export function newAccount(params: TotpAccountParams, origin: string, now = Date.now()): VaultAccount {
  return { id: crypto.randomUUID(), ...validateTotpAccount(params), origin, createdAt: now };
}

export interface MergeResult {
  accounts: VaultAccount[];
  added: VaultAccount[];
  /** Same secret already stored: nothing to do. */
  duplicates: VaultAccount[];
  /** Same issuer, name and site but a different secret: kept the stored one, never overwritten silently. */
  conflicts: VaultAccount[];
  /**
   * For each duplicate and conflict, what it ran into: an existing account, or an earlier incoming one (as it
   * came in, before an id clash gave its added copy a new id). The import report names it.
   */
  ranInto: Map<VaultAccount, VaultAccount>;
}

/**
 * Add imported accounts to existing ones. Never replaces or removes an existing account. Each account's keys
 * are worked out once and looked up, not compared with every other account: an import of 1 MiB of links (about
 * 14 000) compared every pair, canonicalising both secrets each time — 16 s for 2 000 links, minutes for the
 * largest file, with every other request of the background waiting behind it (QA).
 */
export function mergeAccounts(existing: readonly VaultAccount[], incoming: readonly VaultAccount[]): MergeResult {
  const accounts = [...existing];
  const result: MergeResult = { accounts, added: [], duplicates: [], conflicts: [], ranInto: new Map() };
  // Each key to the first account that has it: what a later account with the same key runs into.
  const keys = new Map<string, VaultAccount>();
  const identities = new Map<string, VaultAccount>();
  const remember = (account: VaultAccount) => {
    if (!keys.has(secretKey(account))) keys.set(secretKey(account), account);
    if (!identities.has(identityKey(account))) identities.set(identityKey(account), account);
  };
  accounts.forEach(remember);
  const ids = new Set(accounts.map((a) => a.id));
  for (const candidate of incoming) {
    const sameSecret = keys.get(secretKey(candidate));
    const sameIdentity = sameSecret ? undefined : identities.get(identityKey(candidate));
    if (sameSecret) {
      result.duplicates.push(candidate);
      result.ranInto.set(candidate, sameSecret);
    } else if (sameIdentity) {
      result.conflicts.push(candidate);
      result.ranInto.set(candidate, sameIdentity);
    } else {
      const added = { ...candidate, id: ids.has(candidate.id) ? crypto.randomUUID() : candidate.id };
      accounts.push(added);
      result.added.push(added);
      remember(candidate);
      ids.add(added.id);
    }
  }
  return result;
}

/**
 * Whether two accounts would show as the same row: same site, same issuer and name ignoring case.
 * Adding, importing and renaming each refuse a second account with an identity already in the vault.
 */
export function sameIdentity(a: Pick<VaultAccount, 'origin' | 'issuer' | 'label'>, b: Pick<VaultAccount, 'origin' | 'issuer' | 'label'>): boolean {
  return a.origin === b.origin && a.issuer.toLowerCase() === b.issuer.toLowerCase() && a.label.toLowerCase() === b.label.toLowerCase();
}

/** What {@link sameIdentity} compares, as one lookup key. */
function identityKey(account: Pick<VaultAccount, 'origin' | 'issuer' | 'label'>): string {
  return JSON.stringify([account.origin, account.issuer.toLowerCase(), account.label.toLowerCase()]);
}

/**
 * The same key for the same site, as one lookup key. The secret in canonical form: a secret stored before
 * secrets were canonicalised (`JBSWY3DPEHPK3PXPA`, as typed) is the same key as its canonical twin from a link.
 */
function secretKey(account: Pick<VaultAccount, 'origin' | 'secret'>): string {
  return JSON.stringify([account.origin, normalizeBase32Secret(account.secret)]);
}
