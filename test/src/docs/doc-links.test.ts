/**
 * Every relative link and image in README.md and docs/*.md points at a file that exists, and a link
 * into a Markdown file's `#anchor` names one of its headings (GitHub's slugs).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const documents = [
  'README.md',
  ...readdirSync(join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2 … */
function githubSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(markdown).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images keep their text
      .replace(/<[^>]+>/g, '')
      .replace(/[`*_~]/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

function withoutFences(markdown: string): string {
  return markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
}

/** Fenced and inline code never holds links. */
function withoutCode(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, '');
}

/** Targets of `[text](target)`, `![alt](target)`, `[ref]: target` and `<img src="target">`. */
function linkTargets(markdown: string): string[] {
  const text = withoutCode(markdown);
  const targets: string[] = [];
  for (const match of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1]!);
  for (const match of text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+".*")?\s*$/gm)) targets.push(match[1]!);
  for (const match of text.matchAll(/<img\b[^>]*\bsrc="([^"]+)"/g)) targets.push(match[1]!);
  return targets;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** Problems with the relative links of one document (`document` is its path from the repository root). */
function brokenLinks(document: string, source: string): string[] {
  const problems: string[] = [];
  for (const target of linkTargets(source)) {
    if (isExternal(target)) continue;
    const [pathPart = '', anchor] = target.split('#', 2);
    const file = pathPart === '' ? join(repoRoot, document) : join(dirname(join(repoRoot, document)), decodeURIComponent(pathPart));
    if (!existsSync(file)) {
      problems.push(`${target}: no file ${relative(repoRoot, file)}`);
      continue;
    }
    if (anchor && file.endsWith('.md') && statSync(file).isFile() && !githubSlugs(readFileSync(file, 'utf8')).has(anchor)) {
      problems.push(`${target}: no heading with the anchor #${anchor} in ${relative(repoRoot, file)}`);
    }
  }
  return problems;
}

describe('README and docs links', () => {
  it.each(documents)('%s: relative links and images resolve', (document) => {
    expect(brokenLinks(document, readFileSync(join(repoRoot, document), 'utf8'))).toEqual([]);
  });

  it("finds the README's links and reports a missing file or anchor", () => {
    expect(documents.length).toBeGreaterThan(1);
    expect(linkTargets(readFileSync(join(repoRoot, 'README.md'), 'utf8')).filter((target) => !isExternal(target)).length).toBeGreaterThan(5);
    expect(
      brokenLinks('docs/example.md', '[a](testing.md#no-such-heading) ![b](screenshots/missing.png) [c](server.md) [e](#own) `[d](inline-code.md)`\n## Own'),
    ).toEqual([
      'testing.md#no-such-heading: no heading with the anchor #no-such-heading in docs/testing.md',
      'screenshots/missing.png: no file docs/screenshots/missing.png',
      '#own: no file docs/example.md',
    ]);
  });

  it('slugs follow GitHub', () => {
    expect([...githubSlugs('# Testing your login flow\n## The dev server\n## A `code`: thing!\n## The dev server\n```\n# not a heading\n```')]).toEqual([
      'testing-your-login-flow',
      'the-dev-server',
      'a-code-thing',
      'the-dev-server-1',
    ]);
  });
});
