import { render } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import type { ImportReport } from '../background/messages.js';
import { ImportSummary } from './ImportSummary.js';

/** The text a page shows for some markup. */
const textOf = (html: string) => html.replace(/<[^>]+>/g, '');

describe('ImportSummary (the report of an import)', () => {
  const report: ImportReport = {
    added: 1,
    duplicates: [],
    conflicts: [{ name: 'ACME: alice', line: 3, sameAs: { in: 'vault', name: 'ACME: alice' } }],
    // Out of order on purpose: the report lists them by line.
    errors: [
      { line: 37, message: 'This is not an otpauth:// link.' },
      { line: 12, message: 'The link has no secret= part: copy the whole link.' },
    ],
  };
  const html = render(<ImportSummary report={report} />);

  it('gives the lines it could not read a heading of their own, so they do not read as more conflicts (QA)', () => {
    // The conflicts' list ends before the heading; the unreadable lines are the list after it, in line order.
    const [conflictsPart, linesPart] = html.split(/<h3[^>]*>Lines that could not be read \(2\)<\/h3>/);
    expect(linesPart).toBeDefined();
    expect(textOf(conflictsPart!)).toContain('Not imported — the same name and site');
    expect(textOf(conflictsPart!)).not.toContain('Line 37');
    expect(textOf(conflictsPart!)).not.toContain('Line 12');
    const lines = [...linesPart!.matchAll(/<li>(.*?)<\/li>/g)].map((match) => textOf(match[1]!));
    expect(lines).toEqual(['Line 12: The link has no secret= part: copy the whole link.', 'Line 37: This is not an otpauth:// link.']);
  });

  it('has no such heading when every line was read', () => {
    expect(render(<ImportSummary report={{ ...report, errors: [] }} />)).not.toContain('could not be read');
  });
});
