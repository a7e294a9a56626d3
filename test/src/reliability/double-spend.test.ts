import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeployment, type Deployment } from './harness/deployment.js';
import { ALL_LIFTED } from './harness/limits.js';
import { describeDoubleSpend, doubleSpendRecoveryCode, doubleSpendTotp, doubleSpendWebauthn, type DoubleSpendFigures } from './double-spend.js';

/**
 * Issue 8 point 1, at full size (50 concurrent submissions). The failure limits are lifted here so
 * that all 50 submissions reach the single-use check itself (with the shipped limits most of them
 * would be stopped earlier by the lock-out, which would hide a non-atomic burn); the stress version
 * runs with the shipped limits too.
 */
const SUBMISSIONS = 50;

function expectExactlyOnce(figures: DoubleSpendFigures) {
  expect(figures.unclear).toEqual([]);
  expect(figures.successes).toBe(1);
  expect(Object.values(figures.refusedByStatus).reduce((a, b) => a + b, 0)).toBe(SUBMISSIONS - 1);
  expect(figures.sessionsCreated).toBe(1);
}

for (const [dialect, instances] of [
  ['postgres', 2],
  ['sqlite', 1],
] as const) {
  const label = `${dialect === 'postgres' ? 'pg' : 'sqlite'}×${instances}`;
  describe(`double spend, ${label}`, { timeout: 240_000 }, () => {
    let deployment: Deployment;
    beforeAll(async () => {
      deployment = await startDeployment({ dialect, instances, rateLimits: ALL_LIFTED });
    }, 240_000);
    afterAll(() => deployment?.close());

    it(`the same TOTP code ${SUBMISSIONS}× at once logs in exactly once`, async () => {
      const figures = await doubleSpendTotp(deployment, SUBMISSIONS);
      console.log(describeDoubleSpend(label, figures));
      expectExactlyOnce(figures);
    });

    it(`the same recovery code ${SUBMISSIONS}× at once logs in exactly once and is burned once`, async () => {
      const figures = await doubleSpendRecoveryCode(deployment, SUBMISSIONS);
      console.log(describeDoubleSpend(label, figures));
      expectExactlyOnce(figures);
    });

    it(`the same WebAuthn assertion ${SUBMISSIONS}× at once logs in exactly once`, async () => {
      const figures = await doubleSpendWebauthn(deployment, SUBMISSIONS);
      console.log(describeDoubleSpend(label, figures));
      expectExactlyOnce(figures);
    });
  });
}
