import { h, type VNode } from 'preact';
import { describe, expect, it } from 'vitest';
import { cachedShapeKeys, renderDocument, renderPage } from './render.js';
import { Layout, type PageContext } from './layout.js';
import { LoginPage } from './login-page.js';
import { TwoFactorPage } from './two-factor-page.js';

const anonymous = (csrfToken: string): PageContext => ({ csrfToken, username: null, flash: null });

/** A page that counts its renders, to see which calls were served from the cached shape. */
function counted<P extends object>(Page: (props: P) => VNode) {
  const counter = { renders: 0 };
  const page = (props: P) => {
    counter.renders++;
    return Page(props);
  };
  return { page, counter };
}

describe('renderPage', () => {
  it('gives the same document as a full render, for every request of a shape, with values escaped', () => {
    const { page, counter } = counted(LoginPage);
    const requests = [
      { page: anonymous('token-one'), next: null },
      { page: anonymous('token-two'), next: null },
      { page: anonymous('a"b&c<d>e\'f'), next: null },
    ];
    for (const props of requests) expect(renderPage(page, props)).toBe(renderDocument(LoginPage(props)));
    // The first request renders twice (markers, then the real values to check the cut); the others splice.
    expect(counter.renders).toBe(2);
  });

  it('keeps only the shape: no per-request string ends up in the cache', () => {
    const secret = 'tok_SECRET_login_token_value';
    renderPage(TwoFactorPage, {
      page: { csrfToken: 'csrf_SECRET', username: 'someone_SECRET', flash: { kind: 'warning', text: 'flash_SECRET' } },
      hasTotp: true,
      hasSecurityKey: false,
      hasRecoveryCodes: true,
      query: `?token=${secret}`,
      form: { errors: ['error_SECRET'] },
    });
    expect(cachedShapeKeys().join('\n')).not.toContain('SECRET');
  });

  it('renders each shape on its own: a value present or absent, logged in or not, errors or none', () => {
    const variants = [
      { page: anonymous('t1'), next: null },
      { page: anonymous('t2'), next: '/account/' },
      { page: anonymous('t3'), next: '' },
      { page: { csrfToken: 't4', username: 'alice', flash: null }, next: null },
      { page: anonymous('t5'), next: null, form: { values: { username: '<alice>' }, errors: ['The username or password is incorrect.'] } },
      { page: anonymous('t6'), next: null, form: { values: { username: 'bob' }, errors: ['one', 'two'] } },
    ];
    for (const props of [...variants, ...variants.map((props) => ({ ...props, page: { ...props.page, csrfToken: `${props.page.csrfToken}-again` } }))]) {
      expect(renderPage(LoginPage, props)).toBe(renderDocument(LoginPage(props)));
    }
  });

  it('treats the message kind as structure (the layout compares it), its text as a value', () => {
    for (const kind of ['warning', 'success', 'error', 'success', 'warning'] as const) {
      const props = { page: { csrfToken: 't', username: 'alice', flash: { kind, text: `a ${kind} message` } }, title: 'T', children: null };
      const html = renderPage(Layout, props);
      expect(html).toBe(renderDocument(Layout(props)));
      expect(html).toContain(kind === 'success' ? 'role="status"' : 'role="alert"');
    }
  });

  it("puts each request's login-notice kind in its class: a warning after a success is not shown in green", () => {
    for (const kind of ['success', 'warning', 'success'] as const) {
      const props = { page: anonymous('t'), next: null, notice: { text: `a ${kind} notice`, kind } };
      const html = renderPage(LoginPage, props);
      expect(html).toBe(renderDocument(LoginPage(props)));
      expect(html).toContain(`class="notice notice-${kind}"`);
    }
  });

  it('never caches a view that transforms or compares a string; its documents stay right', () => {
    const Shouting = ({ page, word }: { page: PageContext; word: string }) =>
      Layout({
        page,
        title: 'x',
        children: [h('p', null, word.toUpperCase()), h('p', null, word === 'special' ? 'special branch' : 'ordinary branch'), h('p', null, word.slice(0, 3))],
      });
    const { page, counter } = counted(Shouting);
    for (const word of ['hello', 'special', 'other', 'hello']) {
      const props = { page: anonymous('t'), word };
      expect(renderPage(page, props)).toBe(renderDocument(Shouting(props)));
    }
    expect(counter.renders).toBe(2 + 3);
  });

  it('renders props that are not plain data normally', () => {
    const WithDate = ({ page, when }: { page: PageContext; when: Date }) => Layout({ page, title: 'x', children: h('p', null, when.toISOString()) });
    const props = { page: anonymous('t'), when: new Date(0) };
    expect(renderPage(WithDate, props)).toBe(renderDocument(WithDate(props)));
  });
});
