import { tabOrigin } from '../../vault/origin.js';
import type { Handler } from '../handler-context.js';

/** `tab-context`: the active tab's origin and what its top frame offers (code field, security key). */
export const tabContext: Handler<'tab-context'> = async (ctx, { tabId }) => {
  if (tabId === null) return { tabId, origin: null, hasCodeField: false, hasSecurityKey: false };
  const origin = tabOrigin(await ctx.deps.tabUrl(tabId));
  const page = origin === null ? null : await ctx.probe(tabId);
  const trusted = page !== null && page.topFrame && page.origin === origin;
  return { tabId, origin, hasCodeField: trusted && page.hasCodeField, hasSecurityKey: trusted && page.hasSecurityKey };
};
