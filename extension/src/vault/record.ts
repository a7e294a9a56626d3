import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { assertKdfParams, SALT_BYTES, KEY_BYTES, type KdfHeader } from './kdf.js';
import { fromBase64, toBase64, utf8 } from './encoding.js';

/** The vault as stored in `storage.local`: a header in clear, the payload sealed with XChaCha20-Poly1305. */
export interface VaultRecord {
  v: 1;
  kdf: KdfHeader;
  /** 24 random bytes, canonical base64; fresh for every write. */
  nonce: string;
  /** Ciphertext plus 16-byte Poly1305 tag, canonical base64. */
  ciphertext: string;
}

export const RECORD_VERSION = 1;
export const NONCE_BYTES = 24;
const TAG_BYTES = 16;
/** A stored record larger than this is refused before parsing (storage.local holds 10 MB). */
const MAX_RECORD_CHARS = 4 * 1024 * 1024;

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
  const { v, kdf, nonce, ciphertext } = record;
  return JSON.stringify({ v, kdf: canonicalKdf(kdf), nonce, ciphertext });
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
  const { v, kdf, nonce, ciphertext } = value as Partial<VaultRecord>;
  if (v !== RECORD_VERSION) throw new VaultFormatError(`Unknown vault version ${JSON.stringify(v)}.`);
  if (typeof kdf !== 'object' || kdf === null || typeof nonce !== 'string' || typeof ciphertext !== 'string') {
    throw new VaultFormatError('The vault record is missing fields.');
  }
  const record: VaultRecord = { v, kdf: canonicalKdf(kdf), nonce, ciphertext };
  try {
    assertKdfParams(record.kdf);
    if (typeof record.kdf.salt !== 'string' || fromBase64(record.kdf.salt).length !== SALT_BYTES) throw new Error('salt');
    if (fromBase64(nonce).length !== NONCE_BYTES) throw new Error('nonce');
    if (fromBase64(ciphertext).length < TAG_BYTES) throw new Error('ciphertext');
  } catch (error) {
    throw new VaultFormatError(`The vault record is malformed (${error instanceof Error ? error.message : 'invalid'}).`);
  }
  if (serializeRecord(record) !== text) throw new VaultFormatError('The vault record is not in canonical form (altered).');
  return record;
}

/** The associated data: the header exactly as serialised, so changing KDF cost or salt breaks the tag. */
function associatedData(v: number, kdf: KdfHeader): Uint8Array {
  return utf8.encode(JSON.stringify({ v, kdf: canonicalKdf(kdf) }));
}

/** Encrypt a payload under `key` with a fresh random nonce. */
export function sealRecord(key: Uint8Array, kdf: KdfHeader, plaintext: Uint8Array): VaultRecord {
  if (key.length !== KEY_BYTES) throw new Error('The vault key must be 32 bytes.');
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = xchacha20poly1305(key, nonce, associatedData(RECORD_VERSION, kdf)).encrypt(plaintext);
  return { v: RECORD_VERSION, kdf: canonicalKdf(kdf), nonce: toBase64(nonce), ciphertext: toBase64(sealed) };
}

/** Decrypt and authenticate; throws {@link VaultAuthError} for a wrong key or any alteration. */
export function openRecord(key: Uint8Array, record: VaultRecord): Uint8Array {
  try {
    return xchacha20poly1305(key, fromBase64(record.nonce), associatedData(record.v, record.kdf)).decrypt(
      fromBase64(record.ciphertext),
    );
  } catch {
    throw new VaultAuthError('Wrong passphrase, or the vault was altered.');
  }
}

function canonicalKdf(kdf: KdfHeader): KdfHeader {
  return { alg: kdf.alg, m: kdf.m, t: kdf.t, p: kdf.p, salt: kdf.salt };
}
