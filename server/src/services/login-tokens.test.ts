import { describe, expect, it } from 'vitest';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';

describe.each(DIALECTS)('the two-factor token T on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  it('is accepted in exactly the spelling it was issued in: `body.mac`, nothing after the signature (QA h5)', async () => {
    const user = await h.services.accounts.register({
      username: `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`,
      email: 't@example.org',
      password: 'correct horse battery staple',
    });
    const token = await h.services.loginTokens.issue(user);
    // Before: anything after the signature was ignored, so one login had endless spellings (as the
    // remembered-device cookie had, security.md finding 12).
    for (const spelling of [`${token}.`, `${token}.x`, `${token}.${token.split('.')[1]}`]) {
      expect(await h.services.loginTokens.inspect(spelling)).toEqual({ ok: false, problem: 'malformed' });
      expect(h.services.loginTokens.asCounterRow(spelling)).toEqual({ ok: false, problem: 'malformed' });
      expect(h.services.loginTokens.methods(spelling)).toBeNull();
      expect(await h.services.loginTokens.consume(spelling)).toEqual({ ok: false, problem: 'malformed' });
    }
    // The issued spelling still works, once.
    expect((await h.services.loginTokens.inspect(token)).ok).toBe(true);
    expect((await h.services.loginTokens.consume(token)).ok).toBe(true);
    expect(await h.services.loginTokens.consume(token)).toEqual({ ok: false, problem: 'used' });
  });
});
