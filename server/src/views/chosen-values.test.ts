import { describe, expect, it } from 'vitest';
import { AccountPage, type AccountPageProps } from './account-page.js';
import { HomePage } from './home-page.js';
import { Layout } from './layout.js';
import { ResetPasswordPage } from './password-reset-pages.js';
import { renderDocument, renderPage } from './render.js';
import { SecurityKeyList, WebauthnProvisionPage } from './webauthn-provision-page.js';

/**
 * Values someone chose, beside other text on the server's pages, are each a bidi isolate of their own: a `<bdi>`
 * around exactly the value. Without it the sentence's direction draws a right-to-left value's own end on the wrong
 * side of it ("Remove “مفتاح!”" put the "!" after the label, beside the quote; checked in Chromium).
 */
const LABEL = 'مفتاح!';
const page = { csrfToken: 'token', username: 'alice', flash: null };

describe('chosen values on the pages', () => {
  it('a security key’s label: its own in the Name cell (stacked, the cell starts with "Name: ") and in “Remove …”', () => {
    const html = renderDocument(SecurityKeyList({ page, keys: [{ label: LABEL, createdAt: 0, lastUsedAt: null }] }));
    expect(html).toContain(`<td data-label="Name" class="break-anywhere"><bdi>${LABEL}</bdi></td>`);
    expect(html).toContain(`Remove “<bdi>${LABEL}</bdi>”</button>`);
    // Inputs and attributes hold the value alone, as it is: no markup, no control character.
    expect(html).toContain(`<input type="hidden" name="label" value="${LABEL}"/>`);
    expect(html).not.toMatch(/[\u2066-\u2069]/);
  });

  it('the boxes a label is typed in take their direction from it (dir="auto"): a box is left to right otherwise', () => {
    // Seen in Chromium: "مفتاح!" in the rename box drew its "!" on the right, unlike the Name cell beside it.
    const list = renderDocument(SecurityKeyList({ page, keys: [{ label: LABEL, createdAt: 0, lastUsedAt: null }] }));
    expect(list).toMatch(new RegExp(`<input id="rename-key-0" name="[^"]+" type="text" dir="auto" value="${LABEL}"`));
    const add = renderDocument(WebauthnProvisionPage({ page, keys: [], hasTotp: false, recentlyAuthenticated: true }));
    expect(add).toMatch(/<input id="[^"]+" name="label" type="text" dir="auto"/);
  });

  it('the username in the header, the home page, the reset page and the account page; the address beside it', () => {
    const layout = renderDocument(Layout({ page, title: 't', children: null }));
    expect(layout).toContain('Logged in as <strong><bdi>alice</bdi></strong>');
    expect(renderDocument(HomePage({ page }))).toContain('You are logged in as <strong><bdi>alice</bdi></strong>.');
    expect(renderDocument(ResetPasswordPage({ page: { ...page, username: null }, token: 't', username: 'alice' }))).toContain(
      'For the account <strong><bdi>alice</bdi></strong>.',
    );
    const props: AccountPageProps = {
      page,
      email: 'alice@example.org',
      addresses: [],
      hasTotp: false,
      totpEnabledAt: null,
      securityKeys: [{ label: LABEL, createdAt: 0, lastUsedAt: null }],
      recoveryCodesRemaining: 0,
      recoveryCodesUnconfirmed: false,
      recentlyAuthenticated: true,
      events: [],
      historyPages: 1,
      sessions: [],
      devices: [],
    };
    const account = renderDocument(AccountPage(props));
    expect(account).toContain('<p class="muted"><bdi>alice</bdi> · <bdi>alice@example.org</bdi></p>');
    expect(account).toContain('Its username, <strong><bdi>alice</bdi></strong>, cannot be registered again.');
    expect(account).toContain(`<bdi>${LABEL}</bdi></td>`);
  });

  it('wrapping in markup keeps a page cacheable by shape (views/render.ts): the second request is spliced', () => {
    let renders = 0;
    const Page = (props: { page: typeof page }) => {
      renders++;
      return HomePage(props);
    };
    for (const username of ['alice', 'bob']) {
      const props = { page: { ...page, username } };
      expect(renderPage(Page, props)).toBe(renderDocument(HomePage(props)));
    }
    expect(renders).toBe(2);
  });
});
