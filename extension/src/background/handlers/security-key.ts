import { DOM, INDEX_ORIGINS } from '@latchkey/shared';
import { pressSecurityKeyButton } from '../../content/page-functions.js';
import { tabOrigin } from '../../vault/origin.js';
import { PAGE_REFUSALS, type Handler } from '../handler-context.js';
import { securityKeyAllowed } from '../security-key-sites.js';
import { UserFacingError } from '../user-facing-error.js';

/**
 * `security-key`: press the page's own "Use security key" button; the browser runs WebAuthn itself.
 * Only on the index origins and the vault's account sites, locked or not (see security-key-sites.ts).
 */
export const securityKey: Handler<'security-key'> = async (ctx, { tabId }) => {
  const origin = tabOrigin(await ctx.deps.tabUrl(tabId));
  if (origin === null) throw new UserFacingError('This page is not a web page Latchkey can work with.', 'refused');
  if (!(await securityKeyAllowed(ctx.deps.storage, origin))) {
    throw new UserFacingError(
      `Latchkey uses your security key only on ${INDEX_ORIGINS.join(' and ')} and the sites of your accounts; ${origin} is none of them. Use the page's own button if you trust it.`,
      'refused',
    );
  }
  const result = await ctx.runInPage(tabId, pressSecurityKeyButton, [origin, DOM.webauthnBeginButtonId, ctx.pageDeadline()]);
  if (!result.ok) throw new UserFacingError(PAGE_REFUSALS[result.reason], 'refused');
  return {};
};
