import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeployment, type Deployment } from './harness/deployment.js';
import { PER_IP_LIFTED } from './harness/limits.js';
import { describeCrash, expectNothingLost, runCrashCycles } from './crash-safety.js';

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`crash safety, ${dialect}`, { timeout: 240_000 }, () => {
    let deployment: Deployment;
    beforeAll(async () => {
      // Two instances started at the same moment on a fresh database: both must migrate cleanly.
      deployment = await startDeployment({ dialect, instances: 2, startTogether: true, rateLimits: PER_IP_LIFTED });
    }, 240_000);
    afterAll(() => deployment?.close());

    it('two instances started at once on a fresh database both serve', async () => {
      for (const url of deployment.urls()) {
        const health = await fetch(new URL('/healthz', url));
        expect(health.status).toBe(200);
      }
      const migrations = await deployment.services.db
        .selectFrom('kysely_migration' as never)
        .select('name' as never)
        .execute();
      expect(migrations.length).toBeGreaterThan(0);
      expect(new Set(migrations.map((row) => (row as { name: string }).name)).size).toBe(migrations.length);
    });

    it('kill -9 while clients register, enable 2FA, burn codes and log in: nothing acknowledged is lost', async () => {
      const figures = await runCrashCycles(deployment, { cycles: 1, clients: 4, minDelayMs: 1_500, maxDelayMs: 4_000 });
      console.log(describeCrash(figures));
      // The kill must have landed while work was going on, or the test proves nothing.
      expect(figures.acknowledged.accounts).toBeGreaterThan(0);
      expectNothingLost(figures);
      // The other instance never stopped serving.
      expect((await fetch(new URL('/healthz', deployment.urls()[1]!))).status).toBe(200);
    });
  });
}
