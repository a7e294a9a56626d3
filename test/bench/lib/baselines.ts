// Baselines that are measured more than once per run: on a shared machine the spare capacity drifts,
// so each group of rows is compared with a baseline taken right before it.
import { hash, verify } from '@node-rs/argon2';
import { ARGON2ID } from '../../../server/src/services/passwords.js';
import { DEFAULT_ARGON2 } from '../../../server/src/config.js';
import { BASELINE_PASSWORD, timeArgon2id } from './argon2-baseline.js';
import { runLoadMeasured, type LoadResult } from './load.js';
import { spawnServer } from './server-process.js';

/** Row (a): the bare node:http hello server in its own process, under the same load settings. */
export async function measureBare(options: { connections: number; durationSeconds: number; label: string; cpuProfileDir?: string }): Promise<LoadResult> {
  return measureHello('hello-server', options);
}

/** The same hello, answered by an Express 5 app: what the framework costs before any Latchkey code runs. */
export async function measureExpressHello(options: { connections: number; durationSeconds: number; label: string }): Promise<LoadResult> {
  return measureHello('express-hello-server', options);
}

async function measureHello(
  entry: 'hello-server' | 'express-hello-server',
  options: { connections: number; durationSeconds: number; label: string; cpuProfileDir?: string },
): Promise<LoadResult> {
  const hello = await spawnServer(entry, { label: options.label, ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}) });
  try {
    return await runLoadMeasured([hello], {
      urls: [hello.url],
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      nextRequest: () => ({ method: 'GET', path: '/' }),
    });
  } finally {
    await hello.stop();
  }
}

export const ARGON2_LIMIT_NOTE = `The argon2 limit (DESIGN.md section 6, issue 16): as many argon2id verifies as there are cores always in flight in the driver process for 3 s, nothing else running, with the fastest maintained binding (@node-rs/argon2, the one the server uses) at the server's production cost (m=${DEFAULT_ARGON2.memoryCost / 1024} MiB, t=${DEFAULT_ARGON2.timeCost}, p=${DEFAULT_ARGON2.parallelism}): what the cores deliver hashing together.`;

/** cores ÷ the median time of one argon2id hash at the server's production cost: the ideal, if cores shared nothing. */
export async function measureArgon2Ideal(cores: number, samples = 10): Promise<{ ideal: number; hashMs: number }> {
  const timing = await timeArgon2id(DEFAULT_ARGON2, samples, 2);
  return { ideal: cores / (timing.medianMs / 1000), hashMs: timing.medianMs };
}

/**
 * The argon2 limit (issue 16): verifies per second with `cores` argon2id verifies always in flight and nothing
 * else running, with the fastest maintained binding (`@node-rs/argon2`, the server's own) at the server's
 * cost — what the hardware delivers when every core hashes at once (shared memory bandwidth and caches).
 * No password step can beat it; the gap between it and the password row is the server's own cost.
 */
export async function measureArgon2Limit(cores: number, seconds = 3): Promise<number> {
  const options = { algorithm: ARGON2ID, ...DEFAULT_ARGON2 };
  const stored = await hash(BASELINE_PASSWORD, options);
  // Warm the pool threads and the allocator first, as a running server would be.
  await Promise.all(Array.from({ length: cores }, () => verify(stored, BASELINE_PASSWORD)));
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let verified = 0;
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (performance.now() < deadline) {
        if (!(await verify(stored, BASELINE_PASSWORD))) throw new Error('argon2 baseline: verify failed');
        verified++;
      }
    }),
  );
  return verified / ((performance.now() - started) / 1000);
}
