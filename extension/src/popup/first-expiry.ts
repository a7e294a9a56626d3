import type { AccountView } from '../background/messages.js';

/** When the first of the shown codes stops being current (ms since the epoch), or null with no codes shown. */
export function firstExpiry(accounts: readonly Pick<AccountView, 'validUntil'>[]): number | null {
  let first: number | null = null;
  for (const { validUntil } of accounts) if (first === null || validUntil < first) first = validUntil;
  return first;
}
