import browser from 'webextension-polyfill';
// The routes module alone: the package index also re-exports the otpauth parser, which the popup must not load.
import { INDEX_ORIGINS } from '@latchkey/shared/routes';
import { normalizeOrigin } from '../vault/origin.js';
import { siteAccessPattern } from './site-access-pattern.js';

/**
 * Ask for access to an account's site when it is not one of the index origins the extension ships
 * with (a self-hosted server). Must be called synchronously from a click: browsers only show the
 * permission prompt during a user gesture. Filling still works without it while the popup is opened
 * on that tab (activeTab); the grant lets the page be recognised and the keyboard command work.
 * Resolves to whether access is held afterwards. The grant covers the host on every port (see
 * {@link siteAccessPattern}); codes still go only to the account's exact origin.
 */
export function requestSiteAccess(origin: string): Promise<boolean> {
  let canonical: string;
  try {
    canonical = normalizeOrigin(origin);
  } catch {
    return Promise.resolve(false); // the background reports the invalid origin
  }
  if ((INDEX_ORIGINS as readonly string[]).includes(canonical)) return Promise.resolve(true);
  return browser.permissions.request({ origins: [siteAccessPattern(canonical)] }).catch(() => false);
}
