import { render } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { BackupInTab } from './BackupInTab.js';

/** The text a page shows for some markup. */
const textOf = (html: string) => html.replace(/<[^>]+>/g, '');

describe('BackupInTab (the Backup card in Firefox’s toolbar popup)', () => {
  const html = render(<BackupInTab openTab={async () => undefined} />);

  it('offers export and import each in a tab, and says why', () => {
    const buttons = [...html.matchAll(/<button type="button"[^>]*>([^<]*)<\/button>/g)].map((match) => match[1]);
    expect(buttons).toEqual(['Export in a tab…', 'Import in a tab…']);
    expect(textOf(html)).toContain('Firefox closes this popup when a file dialog opens, so export and import open in a tab.');
  });

  it('has no export link nor file field of its own: a save or file dialog would close the popup (Mozilla bug 1292701)', () => {
    expect(html).not.toContain('Export encrypted backup');
    expect(html).not.toContain('type="file"');
    expect(html).not.toContain('type="password"');
  });
});
