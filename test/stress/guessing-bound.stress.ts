import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeGuessingYear, simulateGuessingYear } from '../../server/src/testing/guessing-year.js';
import { createServiceHarness, type ServiceHarness } from '../../server/src/testing/service-harness.js';

/**
 * Issue 14 point 1 at the pace the attack measured (about 100 wrong codes a day at 4 per 15 minutes)
 * while the owner logs in several times a day — before the fix about 41 % a year — over a simulated
 * year on both dialects. The unit suite runs a gentler year on SQLite (server/src/services/guessing-bound.test.ts).
 */
const PLANS = {
  sqlite: { days: 365, ownerLoginsPerDay: 3, windowsPerDay: 25, guessesPerWindow: 4 },
  // Each statement is a round trip: a lighter pace keeps the PostgreSQL year to minutes. The budget is spent in days either way.
  postgres: { days: 365, ownerLoginsPerDay: 3, windowsPerDay: 3, guessesPerWindow: 4 },
} as const;

describe.each(['sqlite', 'postgres'] as const)('TOTP guessing bound, a simulated year on %s', (dialect) => {
  let h: ServiceHarness;
  beforeAll(async () => {
    h = await createServiceHarness(dialect);
  });
  afterAll(() => h?.close());

  it('evaluates at most 333 wrong codes (P < 10⁻³) whatever the owner does', async () => {
    const plan = PLANS[dialect];
    const year = await simulateGuessingYear(h, plan);
    console.log(`${dialect}: ${describeGuessingYear(plan, year)}`);
    expect(year.attackerSucceeded).toBe(0);
    expect(year.evaluated).toBeLessThanOrEqual(333);
    expect(year.successProbability).toBeLessThan(1e-3);
    expect(year.owners).toContain('recovery code');
  });
});
