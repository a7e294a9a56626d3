// Native argon2id timings in this process (`@node-rs/argon2`: the same binding the server uses, off the
// event loop on libuv's thread pool). Measured with nothing else running, so they are the reference the
// server's password step and the extension's unlock are compared with.
import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { ARGON2ID } from '../../../server/src/services/passwords.js';

export interface Argon2Params {
  /** KiB, as the argon2 binding and the server's Config take it. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const BASELINE_PASSWORD = 'correct horse battery staple';

export interface HashTiming {
  params: Argon2Params;
  medianMs: number;
  samplesMs: number[];
}

/** Median wall time of one argon2id hash with `params`, after `warmup` unmeasured runs. */
export async function timeArgon2id(params: Argon2Params, samples: number, warmup = 1): Promise<HashTiming> {
  const times: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const started = performance.now();
    await hash(BASELINE_PASSWORD, { algorithm: ARGON2ID, ...params, salt: randomBytes(16) });
    if (i >= warmup) times.push(performance.now() - started);
  }
  return { params, medianMs: median(times), samplesMs: times };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
