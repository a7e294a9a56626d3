// An upper bound for the vault's KDF with its lanes on two threads, without building that: two workers,
// each with its own instance of the extension's WebAssembly binary, each computing half the work
// (half the memory, half the lanes, the same passes) at the same moment. A real threaded build would do
// the same block computations over one shared memory and also wait at the 4 × t slice boundaries, so it
// can only be slower than this. The tags are not the vault's (two separate hashes): only the time counts.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Argon2Cost } from './argon2-implementations.js';

const require = createRequire(import.meta.url);

// Plain JavaScript (eval'd): the worker needs no TypeScript loader. It calls libargon2's argon2_hash in
// the binary directly, with a fixed password and salt.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const w = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(workerData.wasmPath)), {}).exports;
w._initialize();
const password = w.malloc(16), salt = w.malloc(16), tag = w.malloc(32);
parentPort.on('message', ({ m, t, p }) => {
  const started = performance.now();
  const code = w.argon2_hash(t, m, p, password, 16, salt, 16, tag, 32, 0, 0, 2, 0x13);
  parentPort.postMessage(code === 0 ? performance.now() - started : -code);
});
parentPort.postMessage('ready');
`;

export interface TwoHalves {
  /** Wall time (ms) of both halves of `cost`, started together. */
  time(cost: Argon2Cost): Promise<number>;
  close(): Promise<void>;
}

export async function startTwoHalves(): Promise<TwoHalves> {
  const wasmPath = require.resolve('@phi-ag/argon2/argon2.wasm');
  const workers = [0, 1].map(() => new Worker(WORKER_SOURCE, { eval: true, workerData: { wasmPath } }));
  const next = (worker: Worker) =>
    new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  await Promise.all(workers.map(next));
  return {
    async time(cost) {
      if (cost.p % 2 !== 0) throw new Error('two halves: p must be even');
      const half = { m: cost.m / 2, t: cost.t, p: cost.p / 2 };
      const started = performance.now();
      const results = await Promise.all(
        workers.map((worker) => {
          const done = next(worker);
          worker.postMessage(half);
          return done;
        }),
      );
      const elapsed = performance.now() - started;
      for (const result of results) if (typeof result !== 'number' || result < 0) throw new Error(`two halves: argon2_hash failed (${String(result)})`);
      return elapsed;
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
