import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const css = readFileSync(new URL('../../static/latchkey.css', import.meta.url), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');

/** The declarations of `selector`'s rules (top level or inside an at-rule whose prelude matches `within`). */
function declarations(selector: string, within?: RegExp): string[] {
  const escaped = selector.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const rule = new RegExp(`(?:^|[{};,])\\s*${escaped}\\s*(?:,[^{]*)?\\{([^}]*)\\}`, 'g');
  if (!within) return [...css.matchAll(rule)].map((match) => match[1]!);
  const found: string[] = [];
  for (const media of css.matchAll(/@media([^{]*)\{((?:[^{}]*\{[^}]*\})*)\s*\}/g)) {
    if (within.test(media[1]!)) found.push(...[...media[2]!.matchAll(rule)].map((match) => match[1]!));
  }
  return found;
}

describe('the recovery-code list at 320 CSS px (WCAG 2.2 SC 1.4.10)', () => {
  it('keeps each code on one line (never broken inside a group), in one column on a narrow screen', () => {
    // `main { overflow-wrap: anywhere }` broke "a1b2 c3d4 …" mid-group in two 130 px columns.
    expect(declarations('.recovery-codes code').join(';')).toMatch(/white-space:\s*nowrap/);
    expect(declarations('.recovery-codes', /max-width:\s*36rem/).join(';')).toMatch(/columns:\s*1\b/);
  });
});
