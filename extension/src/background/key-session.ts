import type { KdfHeader } from '../vault/kdf.js';
import { fromBase64, toBase64 } from '../vault/encoding.js';

/** The unlocked state: the derived key (never the passphrase) and when it must be forgotten. */
export interface SessionKey {
  key: Uint8Array;
  kdf: KdfHeader;
  autoLockMinutes: number;
  expiresAt: number;
}

/** Where the derived key lives while the vault is unlocked. */
export interface KeySession {
  get(now?: number): Promise<SessionKey | null>;
  set(value: SessionKey): Promise<void>;
  clear(): Promise<void>;
}

const SESSION_ITEM = 'vaultKey';

interface StoredSessionKey {
  key: string;
  kdf: KdfHeader;
  autoLockMinutes: number;
  expiresAt: number;
}

/**
 * Chromium: `storage.session` (memory only, gone when the browser closes) restricted to trusted
 * contexts, so a content script can never read the key, and the key survives the service worker
 * being stopped between popup opens. Firefox has no access-level API: the key stays in the
 * background page's memory instead (which also forgets it on restart, or when Firefox unloads the page).
 */
export async function createKeySession(): Promise<KeySession> {
  const session = globalThis.chrome?.storage?.session;
  if (session && typeof session.setAccessLevel === 'function') {
    await session.setAccessLevel({ accessLevel: 'TRUSTED_CONTEXTS' });
    return storageKeySession(session);
  }
  return memoryKeySession();
}

function storageKeySession(area: chrome.storage.StorageArea): KeySession {
  return {
    async get(now = Date.now()) {
      const stored = (await area.get(SESSION_ITEM))[SESSION_ITEM] as StoredSessionKey | undefined;
      if (!stored) return null;
      if (stored.expiresAt <= now) {
        await area.remove(SESSION_ITEM);
        return null;
      }
      return { ...stored, key: fromBase64(stored.key) };
    },
    async set(value) {
      const stored: StoredSessionKey = { ...value, key: toBase64(value.key) };
      await area.set({ [SESSION_ITEM]: stored });
    },
    async clear() {
      await area.remove(SESSION_ITEM);
    },
  };
}

/** In-memory key (Firefox, and unit tests). */
export function memoryKeySession(): KeySession {
  let current: SessionKey | null = null;
  return {
    async get(now = Date.now()) {
      if (current && current.expiresAt <= now) current = null;
      return current;
    },
    async set(value) {
      current = value;
    },
    async clear() {
      current?.key.fill(0);
      current = null;
    },
  };
}
