// Baselines that are measured more than once per run: on a shared machine the spare capacity drifts,
// so each group of rows is compared with a baseline taken right before it.
import argon2 from 'argon2';
import { DEFAULT_ARGON2 } from '../../../server/src/config.js';
import { BASELINE_PASSWORD, timeArgon2id } from './argon2-baseline.js';
import { runLoad, type LoadResult } from './load.js';
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
    return await runLoad({ urls: [hello.url], connections: options.connections, durationSeconds: options.durationSeconds, nextRequest: () => ({ method: 'GET', path: '/' }) });
  } finally {
    await hello.stop();
  }
}

/** cores ÷ the median time of one argon2id hash at the server's production cost. */
export async function measureArgon2Limit(cores: number, samples = 10): Promise<{ limit: number; hashMs: number }> {
  const timing = await timeArgon2id(DEFAULT_ARGON2, samples, 2);
  return { limit: cores / (timing.medianMs / 1000), hashMs: timing.medianMs };
}

/**
 * Verifies per second with `cores` argon2id verifies always in flight and nothing else running: what the
 * hardware itself delivers when every core hashes at once (shared memory bandwidth and caches), below the
 * ideal `cores ÷ one hash`. The gap between this and the password row is the server's own cost.
 */
export async function measureArgon2Concurrent(cores: number, seconds = 3): Promise<number> {
  const hash = await argon2.hash(BASELINE_PASSWORD, { type: argon2.argon2id, ...DEFAULT_ARGON2 });
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let verified = 0;
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (performance.now() < deadline) {
        if (!(await argon2.verify(hash, BASELINE_PASSWORD))) throw new Error('argon2 baseline: verify failed');
        verified++;
      }
    }),
  );
  return verified / ((performance.now() - started) / 1000);
}
