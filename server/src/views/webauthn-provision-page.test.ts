import { describe, expect, it } from 'vitest';
import { renderDocument } from './render.js';
import { SecurityKeyList, WebauthnProvisionPage } from './webauthn-provision-page.js';

const page = { csrfToken: 'csrf', username: 'someone' };
const keys = [{ label: 'Blue key', createdAt: 0, lastUsedAt: null }];

describe('the security-key page', () => {
  it('calls a key\'s name "Name" when adding and "New name" when renaming (not "New label")', () => {
    const html = renderDocument(WebauthnProvisionPage({ page, keys: [], hasTotp: true, recentlyAuthenticated: true }));
    expect(html).toMatch(/<label for="webauthn-provision-label">Name<\/label>/);
    const list = renderDocument(SecurityKeyList({ page, keys }));
    expect(list).toContain('<label for="rename-key-0">New name</label>');
    expect(list).not.toContain('New label');
  });
});
