import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeployment, type Deployment } from '../src/reliability/harness/deployment.js';
import { PER_IP_LIFTED } from '../src/reliability/harness/limits.js';
import { describeCrash, expectNothingLost, runCrashCycles } from '../src/reliability/crash-safety.js';

const CYCLES = Number(process.env.LATCHKEY_CRASH_CYCLES ?? 6);

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`crash safety stress, ${dialect}`, () => {
    let deployment: Deployment;
    beforeAll(async () => {
      deployment = await startDeployment({ dialect, instances: 2, startTogether: true, rateLimits: PER_IP_LIFTED });
    });
    afterAll(() => deployment?.close());

    it(`${CYCLES} kill -9 cycles with 6 busy clients: nothing acknowledged is lost`, async () => {
      const figures = await runCrashCycles(deployment, { cycles: CYCLES, clients: 6, minDelayMs: 1_000, maxDelayMs: 8_000 });
      console.log(describeCrash(figures));
      expectNothingLost(figures);
    });
  });

  describe(`migrations, ${dialect}`, () => {
    it('4 instances started at the same moment on a fresh database all come up (3 rounds)', async () => {
      for (let round = 0; round < 3; round++) {
        const deployment = await startDeployment({ dialect, instances: 4, startTogether: true });
        try {
          const statuses = await Promise.all(deployment.urls().map((url) => fetch(new URL('/healthz', url)).then((r) => r.status)));
          console.log(`migrations ${dialect}: round ${round + 1}, 4 instances started together → healthz ${statuses.join(', ')}`);
          expect(statuses).toEqual([200, 200, 200, 200]);
        } finally {
          await deployment.close();
        }
      }
    });
  });
}
