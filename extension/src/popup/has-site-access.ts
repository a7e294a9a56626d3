import browser from 'webextension-polyfill';
// The routes module alone: the package index also re-exports the otpauth parser, which the popup must not load.
import { INDEX_ORIGINS } from '@latchkey/shared/routes';
import { siteAccessPattern } from './site-access-pattern.js';

/**
 * Whether the extension already holds access to a canonical origin's site (an index origin it ships
 * with, or a grant made earlier), so the add form need not offer to ask for it. Never prompts.
 */
export async function hasSiteAccess(canonicalOrigin: string): Promise<boolean> {
  if ((INDEX_ORIGINS as readonly string[]).includes(canonicalOrigin)) return true;
  return browser.permissions.contains({ origins: [siteAccessPattern(canonicalOrigin)] }).catch(() => false);
}
