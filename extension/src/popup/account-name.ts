import type { AccountView } from '../background/messages.js';
import { isolate } from '../background/isolate.js';

/** "Issuer (name)", or the name alone, the way the popup's sentences name an account; each part isolated. */
export function accountName(account: Pick<AccountView, 'issuer' | 'label'>): string {
  return account.issuer ? `${isolate(account.issuer)} (${isolate(account.label)})` : isolate(account.label);
}
