import { INDEX_ORIGINS } from '@latchkey/shared';
import { siteAccessPattern } from '../popup/site-access-pattern.js';

/** The patterns the manifest requires (the index origins): not the person's grant, and the browser refuses to remove them. */
const REQUIRED = new Set(INDEX_ORIGINS.map(siteAccessPattern));

/**
 * Give back the host access granted for the erased vault's account sites (`origins`: what `accountOrigins` held),
 * each site's pattern once, except the index's own. Left granted, they named the erased accounts' sites in
 * `permissions.getAll()` and the browser's extension settings long after the vault was gone. Never throws: the
 * erase has already happened, and a refusal (a pattern the test build requires, say) leaves that one grant.
 */
export async function withdrawSiteAccess(removeHostPermission: (pattern: string) => Promise<unknown>, origins: unknown): Promise<void> {
  if (!Array.isArray(origins)) return;
  const patterns = new Set<string>();
  for (const origin of origins) {
    if (typeof origin !== 'string') continue;
    try {
      patterns.add(siteAccessPattern(origin));
    } catch {
      // not an origin: nothing was granted for it
    }
  }
  const granted = [...patterns].filter((pattern) => !REQUIRED.has(pattern));
  await Promise.all(granted.map((pattern) => removeHostPermission(pattern).catch(() => undefined)));
}
