import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeployment, type Deployment } from '../src/reliability/harness/deployment.js';
import { ALL_LIFTED, PER_IP_LIFTED } from '../src/reliability/harness/limits.js';
import { closeRawAgent } from '../src/reliability/harness/raw-http.js';
import { describeFuzz, runFuzz } from '../src/reliability/fuzz.js';

const REQUESTS = Number(process.env.LATCHKEY_FUZZ_REQUESTS ?? 10_000);

afterAll(() => closeRawAgent());

for (const [dialect, rateLimits, label] of [
  ['sqlite', ALL_LIFTED, 'limits lifted'],
  ['postgres', PER_IP_LIFTED, 'shipped per-account limits'],
] as const) {
  describe(`fuzz stress, ${dialect}, ${label}`, () => {
    let deployment: Deployment;
    beforeAll(async () => {
      deployment = await startDeployment({ dialect, instances: 1, rateLimits });
    });
    afterAll(() => deployment?.close());

    it(`${REQUESTS} generated requests → no 5xx, no leaks, healthy`, async () => {
      const figures = await runFuzz(deployment, { requests: REQUESTS });
      console.log(`${dialect}, ${label}: ${describeFuzz(figures)}`);
      expect(figures.failures).toEqual([]);
      expect(figures.requests).toBeGreaterThanOrEqual(REQUESTS);
      expect(figures.serverErrors + figures.leaks + figures.missingSecurityHeaders).toBe(0);
      expect(figures.aliveAfter && figures.healthyAfter).toBe(true);
    });
  });
}
