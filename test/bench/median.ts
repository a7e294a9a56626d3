// Medians over several bench runs (issue 16: each target is judged on the median of three runs, because a
// shared machine moves single runs by up to 2×). Reads the JSON files `npm run bench` writes and prints one
// table: per row, the median req/s, p99 and server CPU per request, the median of each ratio, and in how many
// runs the row met its target (with three runs, "2 of 3" is the same as "the median meets it").
//
//   npx tsx test/bench/median.ts test/bench/results/<run 1>.json <run 2>.json <run 3>.json [--markdown]
import { readFile } from 'node:fs/promises';
import { median } from './lib/argon2-baseline.js';
import { formatMarkdownTable, formatTable, type BenchRow } from './lib/table.js';

const args = process.argv.slice(2);
const markdown = args.includes('--markdown');
const files = args.filter((arg) => arg !== '--markdown');
if (files.length < 2) {
  console.error('usage: npx tsx test/bench/median.ts <run.json> <run.json> [<run.json> …] [--markdown]');
  process.exit(2);
}

const runs = await Promise.all(files.map(async (file) => JSON.parse(await readFile(file, 'utf8')) as { header: string; rows: BenchRow[] }));
const keyOf = (row: BenchRow) => `${row.section}\u0000${row.scenario}\u0000${row.backend}`;
const order: string[] = [];
const byKey = new Map<string, BenchRow[]>();
for (const run of runs) {
  for (const row of run.rows) {
    const key = keyOf(row);
    if (!byKey.has(key)) {
      order.push(key);
      byKey.set(key, []);
    }
    byKey.get(key)!.push(row);
  }
}

const medianOf = (rows: BenchRow[], pick: (row: BenchRow) => number | undefined) => {
  const values = rows.map(pick).filter((value): value is number => value !== undefined && !Number.isNaN(value));
  return values.length ? median(values) : undefined;
};

const rows: BenchRow[] = order.map((key) => {
  const group = byKey.get(key)!;
  const first = group[0]!;
  const ratioNames = [...new Set(group.flatMap((row) => (row.ratios ?? []).map((ratio) => ratio.to)))];
  const withTarget = group.filter((row) => row.met !== undefined);
  const metCount = withTarget.filter((row) => row.met).length;
  const row: BenchRow = {
    section: first.section,
    scenario: first.scenario,
    backend: first.backend,
    ratios: ratioNames.map((to) => ({ to, value: medianOf(group, (row) => row.ratios?.find((ratio) => ratio.to === to)?.value)! })),
    notes: [`${group.length} run${group.length === 1 ? '' : 's'}${withTarget.length ? `; target met in ${metCount} of ${withTarget.length}` : ''}`],
  };
  const rps = medianOf(group, (row) => row.requestsPerSecond);
  const p50 = medianOf(group, (row) => row.p50Ms);
  const p99 = medianOf(group, (row) => row.p99Ms);
  const cpu = medianOf(group, (row) => row.cpuMicrosPerRequest);
  const inStatements = medianOf(group, (row) => row.statementMicrosPerRequest);
  const value = medianOf(group, (row) => row.value?.amount);
  if (rps !== undefined) row.requestsPerSecond = rps;
  if (p50 !== undefined) row.p50Ms = p50;
  if (p99 !== undefined) row.p99Ms = p99;
  if (cpu !== undefined) row.cpuMicrosPerRequest = cpu;
  if (inStatements !== undefined) row.statementMicrosPerRequest = inStatements;
  if (value !== undefined && first.value) row.value = { amount: value, unit: first.value.unit };
  if (first.target) row.target = first.target;
  if (withTarget.length) row.met = metCount * 2 > withTarget.length;
  return row;
});

console.log(`Medians of ${runs.length} runs:\n${runs.map((run, i) => `  ${files[i]}: ${run.header}`).join('\n')}\n`);
console.log(markdown ? formatMarkdownTable(rows) : formatTable(rows));
