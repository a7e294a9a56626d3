// Measures vault unlock time at the default KDF (argon2id 64 MiB, t=3, p=4) in headless Chromium —
// the real background service worker, via the popup's own message — next to the same KDF in Node
// (hash-wasm, the same WASM code) and native argon2 (node-argon2, as the server uses).
// Usage: npm run build:test -w extension && node extension/scripts/measure-unlock.mjs [runs]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argon2id } from 'hash-wasm';
import { chromium } from 'playwright-core';

const runs = Number(process.argv[2] ?? 7);
const extensionPath = fileURLToPath(new URL('../dist/chromium-test', import.meta.url));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const KDF = { memorySize: 64 * 1024, iterations: 3, parallelism: 4, hashLength: 32 };

const profile = mkdtempSync(join(tmpdir(), 'latchkey-measure-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.LATCHKEY_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--disable-extensions-except=${extensionPath}`, `--load-extension=${extensionPath}`],
});
let chromiumTimes;
try {
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  const page = await context.newPage();
  await page.goto(`chrome-extension://${new URL(worker.url()).host}/src/popup/index.html`);
  chromiumTimes = await page.evaluate(async (count) => {
    const send = (message) => chrome.runtime.sendMessage(message);
    const passphrase = 'correct horse battery staple';
    const created = await send({ type: 'create', passphrase });
    if (!created.ok) throw new Error(created.error);
    const times = [];
    for (let i = 0; i < count; i++) {
      await send({ type: 'lock' });
      const started = performance.now();
      const result = await send({ type: 'unlock', passphrase });
      if (!result.ok) throw new Error(result.error);
      times.push(performance.now() - started);
    }
    return times;
  }, runs);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

const wasmTimes = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  await argon2id({ ...KDF, password: 'correct horse battery staple', salt: new Uint8Array(16), outputType: 'binary' });
  wasmTimes.push(performance.now() - started);
}
let nativeTimes = null;
try {
  const { default: argon2 } = await import('argon2');
  nativeTimes = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await argon2.hash('correct horse battery staple', { type: argon2.argon2id, memoryCost: KDF.memorySize, timeCost: KDF.iterations, parallelism: KDF.parallelism, hashLength: 32, raw: true, salt: Buffer.alloc(16) });
    nativeTimes.push(performance.now() - started);
  }
} catch {
  // argon2 (native) is a server dependency; skip the column when it is not installed
}

const fmt = (times) => (times ? `median ${Math.round(median(times))} ms (min ${Math.round(Math.min(...times))}, max ${Math.round(Math.max(...times))})` : 'n/a');
console.log(`vault unlock, argon2id m=64 MiB t=3 p=4, ${runs} runs, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}:`);
console.log(`  Chromium service worker (hash-wasm), popup → unlocked: ${fmt(chromiumTimes)}`);
console.log(`  Node ${process.versions.node}, hash-wasm (same WASM):        ${fmt(wasmTimes)}`);
console.log(`  Node, native argon2 (4 threads):                 ${fmt(nativeTimes)}`);
