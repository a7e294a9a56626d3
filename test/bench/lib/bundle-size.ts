// Gzip sizes of the built extension's entries: each entry's HTML/JS/CSS plus everything it imports
// statically (what loads before the entry can run); lazily imported chunks are listed apart.
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface EntrySize {
  files: string[];
  rawBytes: number;
  /** Sum of each file gzipped on its own at level 9 (files are fetched separately). */
  gzipBytes: number;
  /** Chunks only reached through dynamic import() (e.g. the QR decoder), not counted above. */
  lazyFiles: string[];
  lazyGzipBytes: number;
}

const STATIC_IMPORT = /(?:^|[;\s}])(?:import|export)\s*(?:[\w*${}\s,]+from\s*)?["']([^"']+)["']/g;
const DYNAMIC_IMPORT = /import\(\s*["'`]([^"'`]+)["'`]\s*\)/g;
const HTML_ASSET = /<(?:script[^>]*\ssrc|link[^>]*\shref)=["']([^"']+)["']/g;

/** Walks an entry (an .html or .js file relative to `root`) and sums its static graph. */
export async function entrySize(root: string, entry: string): Promise<EntrySize> {
  const seen = new Set<string>();
  const lazy = new Set<string>();
  const resolvePath = (from: string, specifier: string) =>
    specifier.startsWith('/') ? normalize(specifier.slice(1)) : normalize(join(dirname(from), specifier));

  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await readFile(join(root, file), 'utf8');
    if (file.endsWith('.html')) {
      for (const [, asset] of text.matchAll(HTML_ASSET)) if (asset && !/^[a-z]+:/.test(asset)) await visit(resolvePath(file, asset));
      return;
    }
    if (!file.endsWith('.js')) return;
    for (const [, specifier] of text.matchAll(STATIC_IMPORT))
      if (specifier?.startsWith('.') || specifier?.startsWith('/')) await visit(resolvePath(file, specifier));
    for (const [, specifier] of text.matchAll(DYNAMIC_IMPORT))
      if (specifier?.startsWith('.') || specifier?.startsWith('/')) lazy.add(resolvePath(file, specifier));
  };
  await visit(normalize(entry));

  const sizeOf = async (files: Iterable<string>) => {
    let raw = 0;
    let gzip = 0;
    for (const file of files) {
      const bytes = await readFile(join(root, file));
      raw += bytes.length;
      gzip += gzipSync(bytes, { level: 9 }).length;
    }
    return { raw, gzip };
  };
  const eager = await sizeOf(seen);
  const lazyOnly = [...lazy].filter((file) => !seen.has(file));
  const lazySize = await sizeOf(lazyOnly);
  return {
    files: [...seen].map((file) => relative('.', file)),
    rawBytes: eager.raw,
    gzipBytes: eager.gzip,
    lazyFiles: lazyOnly,
    lazyGzipBytes: lazySize.gzip,
  };
}

/** Gzip size of source code given as text (e.g. a minified bundle built in memory). */
export function gzipSize(code: string): number {
  return gzipSync(Buffer.from(code), { level: 9 }).length;
}
