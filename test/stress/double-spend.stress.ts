import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeployment, type Deployment } from '../src/reliability/harness/deployment.js';
import { ALL_LIFTED, PER_IP_LIFTED } from '../src/reliability/harness/limits.js';
import {
  describeDoubleSpend,
  doubleSpendRecoveryCode,
  doubleSpendTotp,
  doubleSpendWebauthn,
  type DoubleSpendFigures,
} from '../src/reliability/double-spend.js';

const SUBMISSIONS = 50;
const ROUNDS = Number(process.env.LATCHKEY_STRESS_ROUNDS ?? 5);

function expectExactlyOnce(figures: DoubleSpendFigures) {
  expect(figures.unclear).toEqual([]);
  expect(figures.successes).toBe(1);
  expect(figures.sessionsCreated).toBe(1);
}

for (const [dialect, instances] of [
  ['postgres', 2],
  ['sqlite', 1],
] as const) {
  for (const [limitsLabel, rateLimits] of [
    ['limits lifted', ALL_LIFTED],
    ['shipped per-account limits', PER_IP_LIFTED],
  ] as const) {
    const label = `${dialect === 'postgres' ? 'pg' : 'sqlite'}×${instances}, ${limitsLabel}`;
    describe(`double spend stress, ${label}`, () => {
      let deployment: Deployment;
      beforeAll(async () => {
        deployment = await startDeployment({ dialect, instances, rateLimits });
      });
      afterAll(() => deployment?.close());

      it(`${ROUNDS} rounds × ${SUBMISSIONS} concurrent submissions per method → exactly one success each`, async () => {
        const totals = { submissions: 0, successes: 0 };
        for (let round = 0; round < ROUNDS; round++) {
          for (const run of [doubleSpendTotp, doubleSpendRecoveryCode, doubleSpendWebauthn]) {
            const figures = await run(deployment, SUBMISSIONS);
            console.log(`round ${round + 1}: ${describeDoubleSpend(label, figures)}`);
            expectExactlyOnce(figures);
            totals.submissions += figures.submissions;
            totals.successes += figures.successes;
          }
        }
        console.log(`double-spend ${label}: ${totals.submissions} submissions in ${ROUNDS * 3} races → ${totals.successes} successes (1 per race)`);
      });
    });
  }
}
