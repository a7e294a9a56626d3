import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * Every view names its JSX runtime itself: tsx compiles a file with the tsconfig of the working
 * directory only, so a view that relied on server/tsconfig.json rendered "React is not defined"
 * for anyone running the testing kit from elsewhere (test/src/kit/kit-outside-workspace.test.ts).
 * Two comments, not one: TypeScript reads `@jsxImportSource` only as its comment's first pragma, so
 * `tsc` in such a project looked for React at every element (esbuild, i.e. tsx and Vite, reads both).
 */
const PRAGMA = ['/** @jsxRuntime automatic */', '/** @jsxImportSource preact */'];

describe('server views', () => {
  const views = readdirSync(new URL('.', import.meta.url)).filter((name) => name.endsWith('.tsx'));
  it.each(views)('%s starts with the Preact JSX pragma', (name) => {
    expect(
      readFileSync(new URL(name, import.meta.url), 'utf8')
        .split('\n')
        .slice(0, 2),
    ).toEqual(PRAGMA);
  });
});
