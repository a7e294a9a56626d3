import type { VNode } from 'preact';
import { describe, expect, it } from 'vitest';
import { type AddressOnPage, ConfirmAddressActionPage, EmailAddressesSection } from './email-addresses-section.js';
import { Layout, type PageContext } from './layout.js';
import { renderDocument, renderPage } from './render.js';

const SENT_AT = Date.UTC(2026, 0, 1, 12, 0, 0);

/** An unverified primary address whose link was sent and still works; each state below changes what it says. */
function address(email: string, state: Partial<AddressOnPage> = {}): AddressOnPage {
  return {
    id: 7,
    email,
    primary: true,
    verified: false,
    verifiedAt: null,
    verifySentAt: SENT_AT,
    linkExpired: false,
    verificationWithdrawn: false,
    verifiedElsewhere: false,
    sendableIn: '',
    ...state,
  };
}

interface SectionPageProps {
  page: PageContext;
  addresses: AddressOnPage[];
}

/** The section alone in a page, rendered as the account page's parts are: through the shape cache. */
const SectionPage = ({ page, addresses }: SectionPageProps): VNode =>
  Layout({ page, title: 'Account', children: EmailAddressesSection({ page, addresses, recentlyAuthenticated: true }) });

/**
 * Renders a state for two requests (another address, another token) through the shape cache, as the
 * account page's parts may be: the second must be spliced from the first one's template (views/render.ts
 * never caches a view that compares a string's content or transforms it) and equal a full render.
 */
function render(state: (email: string) => AddressOnPage[]): string {
  let renders = 0;
  const counted = (props: SectionPageProps) => {
    renders++;
    return SectionPage(props);
  };
  const documents = (
    [
      ['ann@example.org', 'token-one'],
      ['bea@example.org', 'token-two'],
    ] as const
  ).map(([email, csrfToken]) => {
    const props = { page: { csrfToken, username: 'someone', flash: null }, addresses: state(email) };
    const html = renderPage(counted, props);
    expect(html).toBe(renderDocument(SectionPage(props)));
    return html;
  });
  // The first request renders twice (markers, then its values to check the cut); the second only splices.
  expect(renders).toBe(2);
  return documents[0]!;
}

const EMAIL = 'ann@example.org';
/** The address as a sentence holds it: in its own bidi isolate (a `<bdi>`), the sentence's text unchanged. */
const IN_SENTENCE = `<bdi>${EMAIL}</bdi>`;

describe('the e-mail section says what is true of an unverified address’s link', () => {
  it('a link that still works: open it; the button resends', () => {
    const html = render((email) => [address(email)]);
    expect(html).toContain(`Open the link we sent to ${IN_SENTENCE} while logged in.`);
    expect(html).toContain('· link sent 2026-01-01 12:00 UTC');
    expect(html).not.toContain('expired');
    expect(html).toContain(`aria-label="Resend link: ${EMAIL}"`);
  });

  it('no link ever sent: the button is “Send link”, and the page says when it works', () => {
    const now = render((email) => [address(email, { verifySentAt: null })]);
    expect(now).toContain(`No link has been sent to ${IN_SENTENCE} yet: use “Send link” below, then open the link while logged in.`);
    expect(now).toContain('· no link yet</span>');
    expect(now).toContain(`aria-label="Send link: ${EMAIL}"`);
    expect(now).not.toContain('Resend link');
    expect(now).not.toContain('Open the link we sent');

    const later = render((email) => [address(email, { verifySentAt: null, sendableIn: 'in 60 minutes' })]);
    expect(later).toContain(`No link has been sent to ${IN_SENTENCE} yet: use “Send link” below in 60 minutes, then open the link while logged in.`);
    expect(later).toContain('· no link yet; “Send link” works in 60 minutes');
    expect(later).toContain(`aria-label="Send link: ${EMAIL}"`);
  });

  it('a link past its 24 hours: said to have expired, with “Resend link”', () => {
    const html = render((email) => [address(email, { linkExpired: true })]);
    expect(html).toContain(
      `The link we sent to ${IN_SENTENCE} has expired (links work for 24 hours): use “Resend link” below, then open the new link while logged in.`,
    );
    expect(html).toContain('· link sent 2026-01-01 12:00 UTC, expired');
    expect(html).not.toContain('Open the link we sent');
    expect(html).toContain(`aria-label="Resend link: ${EMAIL}"`);
  });

  it('a verification withdrawn, the address free: said so, with “Resend link”', () => {
    const html = render((email) => [address(email, { verificationWithdrawn: true, linkExpired: true })]);
    expect(html).toContain(
      `The verification of ${IN_SENTENCE} was withdrawn (your security history says when): use “Resend link” below, then open the new link while logged in.`,
    );
    expect(html).toContain('· verification withdrawn');
    expect(html).not.toContain('Open the link we sent');
    expect(html).not.toContain('has expired');
    expect(html).toContain(`aria-label="Resend link: ${EMAIL}"`);
  });

  it('verified by another account: said so, and no link offered (it could only be refused)', () => {
    const primary = render((email) => [address(email, { verificationWithdrawn: true, verifiedElsewhere: true })]);
    expect(primary).toContain(
      `${IN_SENTENCE} was verified by another account as well, and an address can belong to one account only, so its verification here was withdrawn (your security history says when). Add another address, verify it and make it your primary address.`,
    );
    expect(primary).toContain('· verified by another account');
    expect(primary).not.toContain('Open the link we sent');
    expect(primary).not.toMatch(/aria-label="(Re)?[Ss]end link/);
    // The primary address cannot be removed either: no empty row of actions.
    expect(primary).not.toContain('<div class="actions"></div>');

    const second = render((email) => [
      address('own@example.org', { verified: true, verifiedAt: SENT_AT, verifySentAt: null }),
      address(email, { id: 8, primary: false, verificationWithdrawn: true, verifiedElsewhere: true }),
    ]);
    expect(second).toContain('· verified by another account');
    expect(second).not.toMatch(/aria-label="(Re)?[Ss]end link/);
    expect(second).toContain(`aria-label="Remove: ${EMAIL}"`);
  });
});

describe('an address on the page is a bidi isolate of its own', () => {
  // Stored before addresses had to be ASCII (services/email-address.ts), an address may be right-to-left; its own
  // end would then be drawn by the sentence's direction, beside the sentence's words and punctuation.
  const RTL = 'דני@דוגמה.קום';

  it('in the unverified-primary notice, in the list and in the make-primary question, with the text unchanged', () => {
    const notice = renderDocument(SectionPage({ page: { csrfToken: 't', username: 'someone', flash: null }, addresses: [address(RTL)] }));
    expect(notice).toContain(`Open the link we sent to <bdi>${RTL}</bdi> while logged in.`);
    expect(notice).toContain(`<strong><bdi>${RTL}</bdi></strong> (primary)`);
    // The button's name is an attribute: text, no markup (a screen reader reads it in logical order).
    expect(notice).toContain(`aria-label="Resend link: ${RTL}"`);

    const question = renderDocument(
      ConfirmAddressActionPage({ page: { csrfToken: 't', username: 'someone', flash: null }, action: 'make_primary', address: address(RTL) }),
    );
    expect(question).toContain(`<h1>Make <bdi>${RTL}</bdi> your primary address?</h1>`);
  });
});
