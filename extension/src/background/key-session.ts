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

/** The slice of `storage.session` the key session uses (both browsers; a fake in unit tests). */
export interface SessionArea {
  get(keys: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string): Promise<void>;
  /** Chromium 102+; absent in Firefox, where `storage.session` is already closed to content scripts. */
  setAccessLevel?(options: { accessLevel: 'TRUSTED_CONTEXTS' }): Promise<void>;
}

const SESSION_ITEM = 'vaultKey';

interface StoredSessionKey {
  key: string;
  kdf: KdfHeader;
  autoLockMinutes: number;
  expiresAt: number;
}

/**
 * The key lives in `storage.session` in both browsers: memory only, gone when the browser closes,
 * and readable by extension pages and the background only (trusted contexts), never by a content
 * script. Not in background memory: Firefox stops an idle MV3 background after 30 s (Chromium its
 * service worker after 30 s too), which would lock the vault whatever the auto-lock setting says.
 * Chromium's default access level is already trusted contexts; it is set explicitly where the API
 * exists so a future default cannot widen it. Firefox has no `setAccessLevel` and never exposes
 * `storage.session` to content scripts.
 */
export async function createKeySession(area: SessionArea | undefined): Promise<KeySession> {
  if (!area) throw new Error('storage.session is missing: Latchkey needs Chromium 116+ or Firefox 140+.');
  if (typeof area.setAccessLevel === 'function') await area.setAccessLevel({ accessLevel: 'TRUSTED_CONTEXTS' });
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

/** In-memory key, for unit tests of the service only. */
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
