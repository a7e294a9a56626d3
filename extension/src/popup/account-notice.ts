import type { AccountView } from '../background/messages.js';
import { accountName } from './account-name.js';

/**
 * What the popup says once an account was added or deleted — "Added Issuer (name)." — shown on the access step and
 * the list, and read out by their live regions. The name goes through {@link accountName}, so each part is its own
 * bidi isolate: a right-to-left or digit-led name cannot reorder the sentence around it.
 */
export function accountNotice(done: 'Added' | 'Deleted', account: Pick<AccountView, 'issuer' | 'label'>): string {
  return `${done} ${accountName(account)}.`;
}
