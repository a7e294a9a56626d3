import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_REQUEST_LIMITS, startTestServer } from './index.js';

describe('startTestServer', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("lifts the request limits (every test request comes from 127.0.0.1); production's are one option away", async () => {
    const lifted = await startTestServer();
    const production = await startTestServer({ config: { requestLimits: DEFAULT_REQUEST_LIMITS } });
    try {
      expect(lifted.config.requestLimits['password-reset-mail'].perSubject?.max).toBeGreaterThan(1_000);
      expect(production.config.requestLimits['password-reset-mail'].perSubject?.max).toBe(3);
      expect(production.config.rateLimits).toEqual(lifted.config.rateLimits); // login limits: production's in both
    } finally {
      await lifted.close();
      await production.close();
    }
  });

  it('shares one process clock between servers: advances add up, a reset or close takes back only its own', async () => {
    const first = await startTestServer();
    const second = await startTestServer();
    try {
      const start = Date.now();
      const elapsed = () => Date.now() - start;
      first.clock.advance(600_000);
      second.clock.advance(1_000);
      expect(elapsed()).toBeGreaterThanOrEqual(601_000); // the first server's 10 minutes still passed
      await second.close();
      expect(elapsed()).toBeGreaterThanOrEqual(600_000);
      expect(elapsed()).toBeLessThan(601_000);
      first.clock.reset();
      expect(elapsed()).toBeLessThan(1_000);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('says which PostgreSQL it could not reach and how to choose another, without the password', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    vi.stubEnv('LATCHKEY_TEST_DATABASE_URL', 'postgres://tester:hunter2@127.0.0.1:1/test');
    vi.resetModules(); // the URL is read when the database module loads
    const { startTestServer } = await import('./start-test-server.js');
    const failure = await startTestServer({ dialect: 'postgres' }).then(
      () => null,
      (error: Error) => error,
    );
    expect(failure?.message).toContain(
      "startTestServer({ dialect: 'postgres' }): cannot create a schema in the test PostgreSQL at postgres://tester:***@127.0.0.1:1/test",
    );
    expect(failure?.message).toContain('ECONNREFUSED');
    expect(failure?.message).toContain('LATCHKEY_TEST_DATABASE_URL');
    expect(failure?.message).not.toContain('hunter2');
  });
});
