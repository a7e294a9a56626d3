import type { Argon2Params } from './argon2-baseline.js';
import type { LoadResult } from './load.js';

/** What every scenario group gets from the driver: the run's settings and its baselines. */
export interface BenchContext {
  cores: number;
  connections: number;
  durationSeconds: number;
  /** Row (a): bare node:http, measured first in this run. */
  bare: LoadResult;
  /** The Express 5 hello, measured first in this run. */
  expressHello: LoadResult;
  /** All cores verifying argon2id at once at the server's cost, no server: verifies per second. */
  argon2Limit: number;
  /** One argon2id hash at the vault's default KDF, natively. */
  vaultHashMs: number;
  vaultKdf: Argon2Params;
  /** Which server deployments to measure (--backends). */
  backends: readonly ('sqlite' | 'postgres' | 'postgres×2')[];
  /** Another checkout's root (--compare-with): its server gives "[before]" rows on the same database. */
  compareWith?: string;
  cpuProfileDir?: string;
  log(message: string): void;
}
