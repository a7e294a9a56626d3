import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { assertKdfParams, SALT_BYTES, KEY_BYTES, type KdfHeader } from './kdf.js';
import { fromBase64, toBase64, utf8 } from './encoding.js';

/**
 * The vault as stored in `storage.local`: a header in clear, the payload sealed with XChaCha20-Poly1305
 * under the header as associated data. Version 2 adds `id` (random, fixed for the vault's life) and
 * `counter` (one more on every write): a rolled-back record still authenticates, so the counter is what
 * lets the store notice an older copy put back (see vault-store's high-water mark). Version 1 records
 * (no id, no counter) are read as counter 0 and rewritten as version 2 on the next write.
 */
export interface VaultRecord {
  v: 1 | 2;
  /** 16 random bytes, canonical base64; '' for a version 1 record. */
  id: string;
  /** Writes so far; 0 for a version 1 record. */
  counter: number;
  kdf: KdfHeader;
  /** 24 random bytes, canonical base64; fresh for every write. */
  nonce: string;
  /** Ciphertext plus 16-byte Poly1305 tag, canonical base64. */
  ciphertext: string;
}

/** What a write puts in the authenticated header besides the KDF. */
export interface RecordIdentity {
  id: string;
  counter: number;
}

export const RECORD_VERSION = 2;
export const VAULT_ID_BYTES = 16;
export const NONCE_BYTES = 24;
const TAG_BYTES = 16;
/** A stored record larger than this is refused before parsing (storage.local holds 10 MB), and never written. */
export const MAX_RECORD_CHARS = 4 * 1024 * 1024;

/** The stored record is unreadable (truncated, altered, unknown version). Never a wrong passphrase. */
export class VaultFormatError extends Error {
  override name = 'VaultFormatError';
}

/** Authentication failed: wrong key (passphrase), or the ciphertext or header was altered. */
export class VaultAuthError extends Error {
  override name = 'VaultAuthError';
}

/** Serialise with a fixed key order; {@link parseRecord} accepts exactly this form and nothing else. */
export function serializeRecord(record: VaultRecord): string {
  const { nonce, ciphertext } = record;
  return JSON.stringify({ ...headerFields(record), nonce, ciphertext });
}

/** The clear header in its canonical order: version 1 had no id or counter. */
function headerFields(record: Pick<VaultRecord, 'v' | 'id' | 'counter' | 'kdf'>): object {
  const kdf = canonicalKdf(record.kdf);
  return record.v === 1 ? { v: 1, kdf } : { v: record.v, id: record.id, counter: record.counter, kdf };
}

/**
 * Parse stored text into a record, strictly: it must be the canonical serialisation of a
 * well-formed record. So any byte changed in storage either fails here or changes the header,
 * nonce or ciphertext — all three of which authentication covers.
 */
export function parseRecord(text: unknown): VaultRecord {
  if (typeof text !== 'string' || text.length === 0) throw new VaultFormatError('No vault record.');
  if (text.length > MAX_RECORD_CHARS) throw new VaultFormatError('The vault record is too large.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VaultFormatError('The vault record is not valid JSON (truncated or altered).');
  }
  if (typeof value !== 'object' || value === null) throw new VaultFormatError('The vault record is not an object.');
  const { v, id, counter, kdf, nonce, ciphertext } = value as Partial<VaultRecord>;
  if (v !== 1 && v !== RECORD_VERSION) throw new VaultFormatError(`Unknown vault version ${JSON.stringify(v)}.`);
  if (typeof kdf !== 'object' || kdf === null || typeof nonce !== 'string' || typeof ciphertext !== 'string') {
    throw new VaultFormatError('The vault record is missing fields.');
  }
  const record: VaultRecord =
    v === 1
      ? { v, id: '', counter: 0, kdf: canonicalKdf(kdf), nonce, ciphertext }
      : { v, id: id as string, counter: counter as number, kdf: canonicalKdf(kdf), nonce, ciphertext };
  try {
    if (v === RECORD_VERSION) {
      if (typeof id !== 'string' || fromBase64(id).length !== VAULT_ID_BYTES) throw new Error('id');
      if (!Number.isSafeInteger(counter) || (counter as number) < 1) throw new Error('counter');
    }
    assertKdfParams(record.kdf);
    if (typeof record.kdf.salt !== 'string' || fromBase64(record.kdf.salt).length !== SALT_BYTES) throw new Error('salt');
    if (fromBase64(nonce).length !== NONCE_BYTES) throw new Error('nonce');
    if (fromBase64(ciphertext).length < TAG_BYTES) throw new Error('ciphertext');
  } catch (error) {
    throw new VaultFormatError(`The vault record is malformed: ${error instanceof Error ? error.message : 'invalid'}`);
  }
  if (serializeRecord(record) !== text) throw new VaultFormatError('The vault record is not in canonical form (altered).');
  return record;
}

/** The associated data: the header exactly as serialised, so changing KDF cost, salt, id or counter breaks the tag. */
function associatedData(record: Pick<VaultRecord, 'v' | 'id' | 'counter' | 'kdf'>): Uint8Array {
  return utf8.encode(JSON.stringify(headerFields(record)));
}

/** Encrypt a payload under `key` with a fresh random nonce, as a current-version record. */
export function sealRecord(key: Uint8Array, kdf: KdfHeader, identity: RecordIdentity, plaintext: Uint8Array): VaultRecord {
  if (key.length !== KEY_BYTES) throw new Error('The vault key must be 32 bytes.');
  const header = { v: RECORD_VERSION, id: identity.id, counter: identity.counter, kdf: canonicalKdf(kdf) } as const;
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = xchacha20poly1305(key, nonce, associatedData(header)).encrypt(plaintext);
  return { ...header, nonce: toBase64(nonce), ciphertext: toBase64(sealed) };
}

/** A fresh random vault id. */
export function newVaultId(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(VAULT_ID_BYTES)));
}

/** Decrypt and authenticate; throws {@link VaultAuthError} for a wrong key or any alteration. */
export function openRecord(key: Uint8Array, record: VaultRecord): Uint8Array {
  try {
    return xchacha20poly1305(key, fromBase64(record.nonce), associatedData(record)).decrypt(fromBase64(record.ciphertext));
  } catch {
    throw new VaultAuthError('Wrong passphrase, or the vault was altered.');
  }
}

function canonicalKdf(kdf: KdfHeader): KdfHeader {
  return { alg: kdf.alg, m: kdf.m, t: kdf.t, p: kdf.p, salt: kdf.salt };
}
