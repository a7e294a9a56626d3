// What one request kind costs the server more than another, function by function: two profiles from
// profile-row.ts, each scaled to the CPU µs per request profile-row printed for it.
//
//   npx tsx test/bench/profile-row.ts login sqlite         # prints "server CPU 180 µs/req (profiled)"
//   npx tsx test/bench/profile-row.ts two-factor sqlite    # prints "server CPU 320 µs/req (profiled)"
//   npx tsx test/bench/profile-diff.ts test-results/profile-row-login-sqlite/server-1/CPU.*.0.*.cpuprofile 180 \
//        test-results/profile-row-two-factor-sqlite/server-1/CPU.*.0.*.cpuprofile 320 [top=40]
//
// Only the measured load is read (profile-row runs of 6 s or more: their last 5.5 s before the 1 s settle and
// the shutdown), so the start-up, the data preparation and the JIT warm-up are left out. Self time only; native code (SQLite,
// JSON.parse) is counted in the JavaScript function that called it.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The window read: it ends before profile-row's settle and shutdown and starts inside its measured run. */
const MEASURED_SECONDS = 5.5;
const TAIL_MICROS = 1_300_000;

const [fileA, microsA, fileB, microsB, top = '40'] = process.argv.slice(2);
if (!fileA || !fileB || !(Number(microsA) > 0) || !(Number(microsB) > 0)) {
  console.error('usage: npx tsx test/bench/profile-diff.ts A.cpuprofile <A µs/req> B.cpuprofile <B µs/req> [top]');
  process.exit(2);
}

/** Self time per function in the measured window, as µs per request (its share of the busy time × µs/req). */
function perRequest(file: string, microsPerRequest: number): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const end = profile.endTime - TAIL_MICROS;
  const start = end - MEASURED_SECONDS * 1e6;
  const self = new Map<string, number>();
  let busy = 0;
  let time = profile.startTime;
  profile.samples.forEach((sample, i) => {
    time += profile.timeDeltas[i] ?? 0;
    const frame = frames.get(sample);
    if (!frame || time < start || time > end || frame.functionName === '(idle)') return;
    const weight = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const where = frame.url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*?\/(server|shared|test)\//, '$1/');
    const key = `${frame.functionName || '(anonymous)'}  ${where}${where ? `:${frame.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + weight);
    busy += weight;
  });
  for (const [key, weight] of self) self.set(key, (weight / busy) * microsPerRequest);
  return self;
}

const a = perRequest(fileA, Number(microsA));
const b = perRequest(fileB, Number(microsB));
const rows = [...new Set([...a.keys(), ...b.keys()])].map((key) => ({ key, a: a.get(key) ?? 0, b: b.get(key) ?? 0 })).sort((x, y) => y.b - y.a - (x.b - x.a));
console.log('  B − A      A      B   µs per request, self time');
for (const row of rows.slice(0, Number(top))) {
  const difference = row.b - row.a;
  console.log(`${(difference >= 0 ? '+' : '') + difference.toFixed(1)}`.padStart(7), row.a.toFixed(1).padStart(6), row.b.toFixed(1).padStart(6), ` ${row.key}`);
}
