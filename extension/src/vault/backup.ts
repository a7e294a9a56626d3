import { normalizeBase32Secret, parseOtpauthUri, validateTotpAccount, type TotpAccountParams } from '@latchkey/shared';
import { BACKUP_FORMAT } from './backup-file-kind.js';
import { deriveVaultKey, type KdfHeader } from './kdf.js';
import { fromBase64, utf8 } from './encoding.js';
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
  return parsePayload(JSON.parse(utf8.decode(openRecord(key, record)))).accounts;
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
}

/** Add imported accounts to existing ones. Never replaces or removes an existing account. */
export function mergeAccounts(existing: readonly VaultAccount[], incoming: readonly VaultAccount[]): MergeResult {
  const accounts = [...existing];
  const result: MergeResult = { accounts, added: [], duplicates: [], conflicts: [] };
  for (const candidate of incoming) {
    if (accounts.some((a) => sameSecret(a, candidate) && a.origin === candidate.origin)) {
      result.duplicates.push(candidate);
    } else if (accounts.some((a) => sameIdentity(a, candidate))) {
      result.conflicts.push(candidate);
    } else {
      const added = { ...candidate, id: accounts.some((a) => a.id === candidate.id) ? crypto.randomUUID() : candidate.id };
      accounts.push(added);
      result.added.push(added);
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

/**
 * Whether two accounts hold the same key. Compared in canonical form: a secret stored before secrets were
 * canonicalised (`JBSWY3DPEHPK3PXPA`, as typed) is the same key as its canonical twin from a link.
 */
function sameSecret(a: VaultAccount, b: VaultAccount): boolean {
  return normalizeBase32Secret(a.secret) === normalizeBase32Secret(b.secret);
}
