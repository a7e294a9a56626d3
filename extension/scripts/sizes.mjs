// Prints the gzip size of what each entry loads up front: the popup page's scripts with their static
// imports (dynamic imports such as the QR decoder excluded), the background with its imports, and the
// injected page functions (built on their own, minified, as executeScript serialises them).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist', 'chromium');

/** Files reachable through static imports from `start` (dynamic `import()` not followed). */
function staticClosure(start, seen = new Set()) {
  if (seen.has(start)) return seen;
  seen.add(start);
  const code = readFileSync(start, 'utf8');
  for (const match of code.matchAll(/(?:^|[;}\s])(?:import|export)\s*(?:[^'"`()]*?from\s*)?["'`]([^"'`]+\.js)["'`]/g)) {
    staticClosure(resolve(dirname(start), match[1]), seen);
  }
  return seen;
}

function gzipOf(files) {
  return files.reduce((sum, file) => sum + gzipSync(readFileSync(file), { level: 9 }).length, 0);
}
function rawOf(files) {
  return files.reduce((sum, file) => sum + readFileSync(file).length, 0);
}

const html = readFileSync(join(dist, 'src/popup/index.html'), 'utf8');
const popupEntries = [...html.matchAll(/<script[^>]+src="\/([^"]+)"/g)].map((m) => join(dist, m[1]));
const popupFiles = [...popupEntries.reduce((set, entry) => staticClosure(entry, set), new Set())];
const backgroundFiles = [...staticClosure(join(dist, 'service-worker-loader.js'))];

const content = await build({
  configFile: false,
  logLevel: 'silent',
  build: {
    write: false,
    minify: true,
    lib: { entry: join(root, 'src/content/page-functions.ts'), formats: ['es'], fileName: 'page-functions' },
  },
});
const contentCode = [content].flat()[0].output[0].code;

const rows = [
  ['popup (initial JS)', rawOf(popupFiles), gzipOf(popupFiles), 40 * 1024],
  ['background', rawOf(backgroundFiles), gzipOf(backgroundFiles), null],
  ['content (injected functions)', contentCode.length, gzipSync(contentCode, { level: 9 }).length, 2 * 1024],
];
const css = join(dist, html.match(/href="\/([^"]+\.css)"/)?.[1] ?? '');
if (existsSync(css)) rows.push(['popup CSS', rawOf([css]), gzipOf([css]), null]);
console.log('\nextension bundle sizes (dist/chromium):');
for (const [name, raw, gz, budget] of rows) {
  const verdict = budget === null ? '' : gz <= budget ? `  (budget ${budget / 1024} KB: ok)` : `  (budget ${budget / 1024} KB: OVER)`;
  console.log(`  ${name.padEnd(30)} ${(raw / 1024).toFixed(1).padStart(7)} KB raw ${(gz / 1024).toFixed(1).padStart(6)} KB gzip${verdict}`);
}
