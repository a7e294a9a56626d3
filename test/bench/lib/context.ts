import type { Argon2Params } from './argon2-baseline.js';
import type { LoadResult } from './load.js';

/** What every scenario group gets from the driver: the run's settings and its baselines. */
export interface BenchContext {
  cores: number;
  connections: number;
  durationSeconds: number;
  /** Row (a): bare node:http, measured first in this run. */
  bare: LoadResult;
  /** cores ÷ one argon2id hash at the server's cost, in hashes per second. */
  argon2Limit: number;
  serverHashMs: number;
  /** One argon2id hash at the vault's default KDF, natively. */
  vaultHashMs: number;
  vaultKdf: Argon2Params;
  cpuProfileDir?: string;
  log(message: string): void;
}
