import { forgetSiteClocks } from './forget-site-clocks.js';
import type { ServiceDeps } from './handler-context.js';
import { withdrawSiteAccess } from './withdraw-site-access.js';

/**
 * An account left `origin` (deleted, or moved to another site): forget what the vault kept about that site once no
 * remaining account needs it — its clock reading (per origin) and the browser's site access (per pattern; see
 * withdraw-site-access.ts). `remaining`: the origins of the accounts the vault still has. Erasing the vault forgets
 * every site at once instead (handlers/erase-vault.ts).
 */
export async function leaveSite(deps: Pick<ServiceDeps, 'siteClock' | 'removeHostPermission'>, origin: string, remaining: readonly string[]): Promise<void> {
  if (deps.siteClock) await forgetSiteClocks(deps.siteClock, [origin], remaining);
  await withdrawSiteAccess(deps.removeHostPermission, [origin], remaining);
}
