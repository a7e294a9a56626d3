import { INDEX_ORIGINS } from '@latchkey/shared';
import { siteAccessPattern } from '../popup/site-access-pattern.js';

/** The patterns the manifest requires (the index origins): not the person's grant, and the browser refuses to remove them. */
const REQUIRED = new Set(INDEX_ORIGINS.map(siteAccessPattern));

/**
 * Give back the host access granted for account sites the vault no longer uses: `origins` are the sites that went
 * (all of `accountOrigins` on erase; the one site of a deleted or moved account), `keep` the origins of the accounts
 * that remain. Each site's pattern once, except the index's own and any a remaining account still needs (two loopback
 * ports share one pattern: site-access-pattern.ts). Left granted, they named sites the vault no longer has in
 * `permissions.getAll()` and the browser's extension settings. Never throws: the vault write has already happened,
 * and a refusal (a pattern the test build requires, say) leaves that one grant.
 */
export async function withdrawSiteAccess(
  removeHostPermission: (pattern: string) => Promise<unknown>,
  origins: unknown,
  keep: readonly string[] = [],
): Promise<void> {
  if (!Array.isArray(origins)) return;
  const needed = new Set(REQUIRED);
  for (const origin of keep) {
    const pattern = patternOf(origin);
    if (pattern !== undefined) needed.add(pattern);
  }
  const patterns = new Set<string>();
  for (const origin of origins) {
    const pattern = patternOf(origin);
    if (pattern !== undefined && !needed.has(pattern)) patterns.add(pattern);
  }
  await Promise.all([...patterns].map((pattern) => removeHostPermission(pattern).catch(() => undefined)));
}

/** The grant's pattern for a stored origin; undefined for anything that is not an origin (nothing was granted for it). */
function patternOf(origin: unknown): string | undefined {
  if (typeof origin !== 'string') return undefined;
  try {
    return siteAccessPattern(origin);
  } catch {
    return undefined;
  }
}
