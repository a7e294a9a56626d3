import { fillCodeInPage } from '../content/page-functions.js';
import { originMatches, tabOrigin } from '../vault/origin.js';
import type { VaultAccount } from '../vault/payload.js';
import type { UnlockedVault } from '../vault/vault-store.js';
import { describeAccount } from './accounts.js';
import { currentCode } from './current-code.js';
import { CODE_SELECTORS, PAGE_REFUSALS, type HandlerContext } from './handler-context.js';
import type { ResponseMap } from './messages.js';
import { UserFacingError } from './user-facing-error.js';

/**
 * Fill the account's current code into the tab, only when the tab's origin is exactly the
 * account's (checked here before anything is injected, and again by the page function).
 */
export async function fillAccount(ctx: HandlerContext, vault: UnlockedVault, account: VaultAccount, tabId: number): Promise<ResponseMap['fill']> {
  const url = await ctx.deps.tabUrl(tabId);
  const origin = tabOrigin(url);
  if (origin === null) {
    throw new UserFacingError('Latchkey cannot see which site this tab is on, so it will not fill a code here.', 'refused');
  }
  if (!originMatches(account.origin, url)) {
    throw new UserFacingError(
      `Refused: this tab is ${origin}, but ${describeAccount(account)} fills only on ${account.origin}. No code was sent to the page.`,
      'refused',
    );
  }
  const result = await ctx.runInPage(tabId, fillCodeInPage, [
    {
      code: currentCode(account, ctx.deps.now()),
      origin: account.origin,
      submit: vault.payload.settings.autoSubmit,
      selectors: CODE_SELECTORS,
      // The page's clock is this one (same machine); after this, shortly before the wait below ends, the page
      // function fills nothing.
      notAfter: ctx.pageDeadline(),
    },
  ]);
  if (!result.ok) throw new UserFacingError(PAGE_REFUSALS[result.reason], 'refused');
  return { submitted: result.submitted === true };
}
