import { render } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { isolate } from '../background/isolate.js';
import { PASS, SECRET, setup } from '../background/service-setup.test-helper.js';
import { accountNotice } from './account-notice.js';
import { BidiText } from './BidiText.js';
import { Field, Notice } from './components.js';
import { ImportSummary } from './ImportSummary.js';

// An RTL issuer with a Latin name, and an RTL name: inside an English sentence each must be its own bidi isolate,
// or the browser's bidi algorithm shows "(alice) פייפאי" and moves the sentence's own punctuation (QA).
const ISSUER = 'פייפאי';
const LABEL = 'משתמש@דוגמה';
const bdi = (text: string) => `<bdi dir="auto">${text}</bdi>`;
/** The text a page shows for some markup (no tags; the popup's text has no control characters either). */
const textOf = (html: string) => html.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&');
const link = (issuer: string, label: string) =>
  `otpauth://totp/${encodeURIComponent(`${issuer}:${label}`)}?secret=${SECRET}&issuer=${encodeURIComponent(issuer)}`;

/** A vault holding the Hebrew account, for pypi.org; the fake tab shows `tabUrl`. */
async function withHebrewAccount(tabUrl?: string) {
  const env = setup(tabUrl);
  expect(await env.service.handle({ type: 'create', passphrase: PASS })).toMatchObject({ ok: true });
  const added = await env.service.handle({ type: 'add-account', account: { uri: link(ISSUER, LABEL), origin: 'https://pypi.org' } });
  if (!added.ok) throw new Error(added.error);
  return { ...env, account: added.account };
}

describe('account names inside the popup’s sentences', () => {
  it('"Added …" isolates the issuer and the name, each on its own', async () => {
    const env = setup();
    await env.service.handle({ type: 'create', passphrase: PASS });
    const added = await env.service.handle({ type: 'add-account', account: { uri: link(ISSUER, 'alice'), origin: 'https://pypi.org' } });
    if (!added.ok) throw new Error(added.error);
    // The sentence AddAccount hands to the access step and the list (and EditAccount, after a delete), as they show it.
    const html = render(<BidiText text={accountNotice('Added', added.account)} />);
    expect(html).toBe(`Added ${bdi(ISSUER)} (${bdi('alice')}).`);
    expect(textOf(html)).toBe(`Added ${ISSUER} (alice).`);
    expect(render(<BidiText text={accountNotice('Deleted', { issuer: '', label: LABEL })} />)).toBe(`Deleted ${bdi(LABEL)}.`);
  });

  it('the background’s refusals name the account in isolates, shown as <bdi> with the sentence’s text unchanged', async () => {
    const env = await withHebrewAccount();
    const again = await env.service.handle({ type: 'add-account', account: { uri: link(ISSUER, LABEL), origin: 'https://pypi.org' } });
    if (again.ok) throw new Error('a duplicate was added');
    const html = render(<Notice kind="error">{again.error}</Notice>);
    expect(html).toContain(`This account is already in Latchkey (${bdi(ISSUER)}: ${bdi(LABEL)}).`);
    expect(textOf(html)).toContain(`This account is already in Latchkey (${ISSUER}: ${LABEL}).`);
    expect(textOf(html)).not.toMatch(/[\u2066-\u2069]/);

    // Fill (and the keyboard shortcut, which shows the same refusal) on another site.
    env.tabs.set(7, 'https://evil.example/account/two-factor/');
    const fill = await env.service.handle({ type: 'fill', id: env.account.id, tabId: 7 });
    if (fill.ok) throw new Error('filled on another site');
    expect(render(<Notice kind="error">{fill.error}</Notice>)).toContain(`but ${bdi(ISSUER)}: ${bdi(LABEL)} fills only on https://pypi.org.`);
  });

  it('the import report isolates each skipped account’s name, and the vault account it ran into', async () => {
    const env = await withHebrewAccount();
    const text = [link(ISSUER, LABEL), link('Work', LABEL)].join('\n');
    const report = await env.service.handle({ type: 'import', text, origin: 'https://pypi.org' });
    if (!report.ok) throw new Error(report.error);
    const html = render(<ImportSummary report={report} />);
    expect(html).toContain(`<li>Line 1: “${bdi(ISSUER)}: ${bdi(LABEL)}”, already in the vault</li>`);
    expect(html).toContain(`<li>Line 2: “${bdi('Work')}: ${bdi(LABEL)}”, the same account as “${bdi(ISSUER)}: ${bdi(LABEL)}” already in the vault</li>`);
    // What journeys and screen readers get: the sentence, no control characters.
    expect(textOf(html)).toContain(`Line 1: “${ISSUER}: ${LABEL}”, already in the vault`);
  });

  it('a file name in a field label is isolated too', () => {
    const html = render(<Field label={`Passphrase of ${isolate('גיבוי (1).json')}`}>{(id) => <input id={id} />}</Field>);
    expect(html).toContain(`Passphrase of ${bdi('גיבוי (1).json')}</label>`);
  });

  it('a name cannot end its isolate early, and its own direction overrides stay inside it', () => {
    // U+2069 would close the isolate in the middle of the name; U+202E (RLO) would reverse the rest of the
    // sentence were it not isolated (Unicode TR #36 §2.4).
    const html = render(<BidiText text={`Refused: ${isolate('evil\u2069\u202Eorg.ipyp')} fills only on https://pypi.org.`} />);
    expect(html).toBe(`Refused: ${bdi('evil\u202Eorg.ipyp')} fills only on https://pypi.org.`);
  });
});
