// Summarises a V8 CPU profile written by `npm run bench -- --profile` (node --cpu-prof on each server child):
// the functions with the most self time, and the share spent per package.
//
//   npx tsx test/bench/profile-summary.ts test-results/bench-profiles-<stamp>/<label>/CPU.*.<pid>.0.*.cpuprofile [top=25]
// (thread 0 is the server's main thread; the other file is tsx's module loader thread)
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: npx tsx test/bench/profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMicros = new Map<number, number>();
for (const [index, id] of profile.samples.entries()) selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
const total = [...selfMicros.values()].reduce((sum, value) => sum + value, 0);

const where = (url: string) => {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.includes('/server/src/')) return 'server/src';
  if (url.startsWith('node:')) return 'node core';
  return url === '' ? '(native / V8)' : 'other';
};
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const [id, micros] of selfMicros) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const key = `${functionName || '(anonymous)'}  ${url.replace(/^file:\/\/.*?\/(node_modules|server|shared)\//, '$1/')}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  byPackage.set(where(url), (byPackage.get(where(url)) ?? 0) + micros);
}
const pct = (micros: number) => `${((micros / total) * 100).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n\nself time by package:`);
for (const [name, micros] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(micros)}  ${name}`);
console.log(`\ntop ${top} functions by self time:`);
for (const [name, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(micros)}  ${name}`);
