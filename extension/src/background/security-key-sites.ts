import { INDEX_ORIGINS } from '@latchkey/shared';
import type { VaultPayload } from '../vault/payload.js';
import type { VaultStorageArea } from '../vault/vault-store.js';

/**
 * `storage.local` item: the origins of the vault's accounts, in the clear, so the security-key
 * hand-off can be limited to them while the vault is locked (a security key needs no vault). It
 * tells no more than the host permissions the person granted for those sites; no secret, no name.
 */
export const ACCOUNT_ORIGINS_ITEM = 'accountOrigins';

/** Keep {@link ACCOUNT_ORIGINS_ITEM} equal to the origins of `payload`'s accounts (after each vault write and unlock). */
export async function rememberAccountOrigins(storage: VaultStorageArea, payload: VaultPayload): Promise<void> {
  const origins = [...new Set(payload.accounts.map((account) => account.origin))].sort();
  const stored = (await storage.get([ACCOUNT_ORIGINS_ITEM]))[ACCOUNT_ORIGINS_ITEM];
  if (JSON.stringify(stored) !== JSON.stringify(origins)) await storage.set({ [ACCOUNT_ORIGINS_ITEM]: origins });
}

/**
 * Whether "Use security key" may be offered and pressed on `origin` (canonical, exact): only the
 * index origins the extension is made for and the sites of the person's own accounts. Any page can
 * carry a `#webauthn-auth-begin` button; clicking a stranger's would start their ceremony for them.
 */
export async function securityKeyAllowed(storage: VaultStorageArea, origin: string): Promise<boolean> {
  if ((INDEX_ORIGINS as readonly string[]).includes(origin)) return true;
  const stored = (await storage.get([ACCOUNT_ORIGINS_ITEM]))[ACCOUNT_ORIGINS_ITEM];
  return Array.isArray(stored) && stored.includes(origin);
}
