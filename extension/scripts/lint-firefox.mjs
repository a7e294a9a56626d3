// `npm run lint:firefox -w extension`: Mozilla's `web-ext lint` (the add-on store's validator) on the
// Firefox build. Fails on any error or warning, except the one warning that is not ours: Preact's
// renderer assigns `innerHTML` for `dangerouslySetInnerHTML`, a prop Latchkey's own code never uses
// (checked below on the source), so that assignment never runs with any value.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const build = join(root, 'dist/firefox');
const webExt = fileURLToPath(new URL('../../node_modules/.bin/web-ext', import.meta.url));

const run = spawnSync(webExt, ['lint', '--source-dir', build, '--no-config-discovery', '--output', 'json'], { encoding: 'utf8' });
if (run.error) throw run.error;
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  console.error(run.stdout, run.stderr);
  throw new Error('web-ext lint printed no JSON report (is dist/firefox built?)');
}

/** Preact's own `innerHTML` write (minified): the assigned value is `<x>.__html` from dangerouslySetInnerHTML. */
function isPreactInnerHtml(message) {
  if (message.code !== 'UNSAFE_VAR_ASSIGNMENT' || !message.file || !message.line) return false;
  const line = readFileSync(join(build, message.file), 'utf8').split('\n')[message.line - 1] ?? '';
  const around = line.slice(Math.max(0, (message.column ?? 0) - 200), (message.column ?? 0) + 200);
  return around.includes('dangerouslySetInnerHTML') && /\.innerHTML=[\w$]+\.__html/.test(around);
}

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.(ts|tsx)$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}
const ownInnerHtml = sourceFiles(join(root, 'src')).filter((file) => /innerHTML|dangerouslySetInnerHTML/.test(readFileSync(file, 'utf8')));

const problems = [...report.errors, ...report.warnings, ...report.notices].filter((message) => !isPreactInnerHtml(message));
const allowed = report.warnings.length - problems.filter((m) => report.warnings.includes(m)).length;
for (const m of problems) console.error(`web-ext lint: ${m._type} ${m.code} ${m.file ?? ''}${m.line ? `:${m.line}` : ''} — ${m.message}`);
for (const file of ownInnerHtml) console.error(`web-ext lint: Latchkey's own code must not use innerHTML: ${file}`);
if (problems.length > 0 || ownInnerHtml.length > 0) process.exit(1);
console.log(`web-ext lint: dist/firefox clean (0 errors, 0 warnings, 0 notices; ${allowed} innerHTML warning inside Preact's minified renderer allowed)`);
