import { tabOrigin } from '../../vault/origin.js';
import type { Handler } from '../handler-context.js';
import { securityKeyAllowed } from '../security-key-sites.js';

/**
 * `tab-context`: the active tab's origin and what its top frame offers: a code field, and a security
 * key (offered only on the index origins and the sites of the vault's accounts).
 */
export const tabContext: Handler<'tab-context'> = async (ctx, { tabId }) => {
  if (tabId === null) return { tabId, origin: null, hasCodeField: false, hasSecurityKey: false };
  const origin = tabOrigin(await ctx.deps.tabUrl(tabId));
  const page = origin === null ? null : await ctx.probe(tabId);
  const trusted = page !== null && page.topFrame === true && page.origin === origin;
  const keySite = trusted && page.hasSecurityKey && (await securityKeyAllowed(ctx.deps.storage, origin));
  return { tabId, origin, hasCodeField: trusted && page.hasCodeField, hasSecurityKey: keySite };
};
