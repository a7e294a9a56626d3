import { describe, expect, it } from 'vitest';
import type { AccountView } from '../background/messages.js';
import { accountsForTab } from './accounts-for-tab.js';

const account = (id: string, origin: string) => ({ id, origin, issuer: id, label: id }) as AccountView;

describe('accountsForTab (the list on a tab)', () => {
  const accounts = [
    ...Array.from({ length: 37 }, (_, i) => account(`other-${i}`, 'https://pypi.org')),
    account('here-1', 'http://127.0.0.1:8080'),
    account('lookalike', 'http://localhost:8080'),
    account('here-2', 'http://127.0.0.1:8080'),
  ];

  it('puts the accounts that fill on the tab’s exact origin first, each group in the vault’s order', () => {
    const { here, others } = accountsForTab(accounts, 'http://127.0.0.1:8080');
    expect(here.map((a) => a.id)).toEqual(['here-1', 'here-2']);
    expect(others.map((a) => a.id)).toEqual([...Array.from({ length: 37 }, (_, i) => `other-${i}`), 'lookalike']);
  });

  it('has nothing “here” on a tab whose site is unknown or has no account', () => {
    expect(accountsForTab(accounts, null).here).toEqual([]);
    expect(accountsForTab(accounts, 'https://example.com').others).toHaveLength(accounts.length);
  });
});
