import type { AccountView } from '../background/messages.js';

/**
 * The list's accounts in two groups: those that fill on the tab's exact origin (the only ones with **Fill**), then
 * the rest, each group in the vault's order. With many accounts the one that fills used to keep its place — 38th of
 * 38 on a two-factor page, its Fill and its result far below the top (review).
 */
export function accountsForTab(accounts: readonly AccountView[], origin: string | null): { here: AccountView[]; others: AccountView[] } {
  const here: AccountView[] = [];
  const others: AccountView[] = [];
  for (const account of accounts) (origin !== null && account.origin === origin ? here : others).push(account);
  return { here, others };
}
