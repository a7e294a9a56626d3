// Baselines that are measured more than once per run: on a shared machine the spare capacity drifts,
// so each group of rows is compared with a baseline taken right before it.
import { DEFAULT_ARGON2 } from '../../../server/src/config.js';
import { timeArgon2id } from './argon2-baseline.js';
import { runLoad, type LoadResult } from './load.js';
import { spawnServer } from './server-process.js';

/** Row (a): the bare node:http hello server in its own process, under the same load settings. */
export async function measureBare(options: { connections: number; durationSeconds: number; label: string; cpuProfileDir?: string }): Promise<LoadResult> {
  const hello = await spawnServer('hello-server', { label: options.label, ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}) });
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
