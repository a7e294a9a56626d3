import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARGON2, DEFAULT_RATE_LIMITS } from '../../server/src/config.js';
import { startDeployment, type Deployment } from '../src/reliability/harness/deployment.js';
import { ALL_LIFTED, PER_IP_LIFTED } from '../src/reliability/harness/limits.js';
import { describeGuessingBound, totpGuessingBound } from '../src/reliability/guessing-bound.js';
import {
  concurrentGuessBurst,
  describeBurst,
  describeSpread,
  describeTiming,
  loginTiming,
  passwordFailuresAcrossInstances,
  passwordSprayAcrossInstances,
  secondFactorFailuresAcrossInstances,
} from '../src/reliability/rate-limits.js';

for (const [dialect, instances] of [
  ['postgres', 2],
  ['sqlite', 1],
] as const) {
  describe(`rate limits stress, ${dialect}×${instances}`, () => {
    let deployment: Deployment;
    beforeAll(async () => {
      deployment = await startDeployment({ dialect, instances, rateLimits: PER_IP_LIFTED });
    });
    afterAll(() => deployment?.close());

    it('per-account password and second-factor limits hold exactly, 5 accounts each', async () => {
      for (let i = 0; i < 5; i++) {
        const password = await passwordFailuresAcrossInstances(deployment);
        console.log(describeSpread(password));
        expect(password.firstBlockedAt).toBe(DEFAULT_RATE_LIMITS.passwordPerAccount.max + 1);
        expect(password.blockedEverywhere).toBe(true);
        const second = await secondFactorFailuresAcrossInstances(deployment);
        console.log(describeSpread(second));
        expect(second.firstBlockedAt).toBe(DEFAULT_RATE_LIMITS.secondFactorPerAccount.max);
        expect(second.blockedEverywhere).toBe(true);
        expect(second.correctCodeAfterLock).toBe(429);
      }
    });

    it('bursts of 100 concurrent wrong guesses stay within the limit, 3 accounts', async () => {
      for (let i = 0; i < 3; i++) {
        const burst = await concurrentGuessBurst(deployment, 100);
        console.log(describeBurst(burst));
        expect(burst.other).toEqual([]);
        expect(burst.evaluated).toBeLessThanOrEqual(burst.limit);
      }
    });
  });
}

describe('per-IP password limit across 2 instances (password spraying), shipped limits', () => {
  let deployment: Deployment;
  beforeAll(async () => {
    deployment = await startDeployment({ dialect: 'postgres', instances: 2 });
  });
  afterAll(() => deployment?.close());

  it('one address trying one password on many accounts is stopped at the per-IP limit on both instances', async () => {
    const spray = await passwordSprayAcrossInstances(deployment);
    console.log(describeSpread(spray));
    expect(spray.firstBlockedAt).toBe(DEFAULT_RATE_LIMITS.passwordPerIp.max + 1);
    expect(spray.blockedEverywhere).toBe(true);
  });
});

describe('login timing, production argon2id cost', () => {
  let deployment: Deployment;
  beforeAll(async () => {
    deployment = await startDeployment({ dialect: 'postgres', instances: 1, rateLimits: ALL_LIFTED, argon2: DEFAULT_ARGON2 });
  });
  afterAll(() => deployment?.close());

  it('unknown username vs wrong password: medians of 200 interleaved samples within 15 %', async () => {
    const figures = await loginTiming(deployment, 200);
    console.log(describeTiming(figures));
    expect(figures.relativeDifference).toBeLessThan(0.15);
  });

  it('prints the TOTP guessing bound of the shipped limits', () => {
    console.log(describeGuessingBound(totpGuessingBound(DEFAULT_RATE_LIMITS.secondFactorPerAccount, DEFAULT_RATE_LIMITS.totpGuessesPerYear)));
  });
});
