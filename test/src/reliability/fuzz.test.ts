import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeployment, type Deployment } from './harness/deployment.js';
import { ALL_LIFTED } from './harness/limits.js';
import { closeRawAgent } from './harness/raw-http.js';
import { describeFuzz, runFuzz } from './fuzz.js';

/** A few thousand here; `npm run test:stress` sends ≥ 10,000 on each dialect. */
const REQUESTS = Number(process.env.LATCHKEY_FUZZ_REQUESTS ?? 2_000);

describe('fuzzing every route (fast-check)', { timeout: 240_000 }, () => {
  let deployment: Deployment;
  beforeAll(async () => {
    // Limits lifted so generated requests reach validation instead of stopping at the lock-out.
    deployment = await startDeployment({ dialect: 'sqlite', instances: 1, rateLimits: ALL_LIFTED });
  }, 240_000);
  afterAll(async () => {
    closeRawAgent();
    await deployment?.close();
  });

  it(`${REQUESTS} hostile requests: no 5xx, no stack trace, headers on every answer, still healthy`, async () => {
    const figures = await runFuzz(deployment, { requests: REQUESTS });
    console.log(describeFuzz(figures));
    expect(figures.failures).toEqual([]);
    expect(figures.requests).toBeGreaterThanOrEqual(REQUESTS);
    expect(figures.serverErrors).toBe(0);
    expect(figures.leaks).toBe(0);
    expect(figures.missingSecurityHeaders).toBe(0);
    expect(figures.aliveAfter).toBe(true);
    expect(figures.healthyAfter).toBe(true);
    expect(deployment.instances[0]!.stderr()).not.toMatch(/uncaught|unhandled/i);
  });
});
