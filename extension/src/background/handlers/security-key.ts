import { DOM } from '@latchkey/shared';
import { pressSecurityKeyButton } from '../../content/page-functions.js';
import { tabOrigin } from '../../vault/origin.js';
import { PAGE_REFUSALS, type Handler } from '../handler-context.js';
import { UserFacingError } from '../user-facing-error.js';

/** `security-key`: press the page's own "Use security key" button; the browser runs WebAuthn itself. */
export const securityKey: Handler<'security-key'> = async (ctx, { tabId }) => {
  const origin = tabOrigin(await ctx.deps.tabUrl(tabId));
  if (origin === null) throw new UserFacingError('This page is not a web page Latchkey can work with.', 'refused');
  const result = await ctx.runInPage(tabId, pressSecurityKeyButton, [origin, DOM.webauthnBeginButtonId]);
  if (!result.ok) throw new UserFacingError(PAGE_REFUSALS[result.reason], 'refused');
  return {};
};
