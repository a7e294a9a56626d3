import { TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { SECRET, withAccount } from '../service-setup.test-helper.js';

describe('codes', () => {
  it('lists current codes (RFC 6238 via otpauth) and never the secrets', async () => {
    const { service, clock, alarms } = await withAccount();
    const codes = await service.handle({ type: 'codes' });
    const expected = new TOTP({ secret: SECRET }).generate({ timestamp: clock.now });
    // validUntil: the end of the 30 s step holding the clock, where the popup asks for the next code.
    const validUntil = (Math.floor(clock.now / 30_000) + 1) * 30_000;
    expect(codes).toMatchObject({ ok: true, accounts: [{ issuer: 'PyPI', label: 'alice', code: expected, origin: 'https://pypi.org', validUntil }] });
    expect(JSON.stringify(codes)).not.toContain(SECRET); // the popup never receives secrets
    expect(alarms.at(-1)).toBe(15);
  });

  it("says when the vault locks; the person's requests push that back, the open list's own refreshes do not", async () => {
    const { service, clock, alarms } = await withAccount();
    const opened = await service.handle({ type: 'codes' });
    if (!opened.ok) throw new Error(opened.error);
    expect(opened.lockAt).toBe(clock.now + 15 * 60_000);
    const armed = alarms.length;

    // Fourteen minutes of a popup left open, refreshing its codes every period: the lock does not move.
    for (let minute = 1; minute <= 14; minute++) {
      clock.now += 60_000;
      expect(await service.handle({ type: 'codes', refresh: true })).toMatchObject({ ok: true, lockAt: opened.lockAt });
    }
    expect(alarms.length).toBe(armed);
    clock.now = opened.lockAt;
    expect(await service.handle({ type: 'codes', refresh: true })).toMatchObject({ ok: false, code: 'locked' });
  });

  it('a request the person makes (opening the list) starts the auto-lock minutes again', async () => {
    const { service, clock } = await withAccount();
    clock.now += 10 * 60_000;
    expect(await service.handle({ type: 'codes' })).toMatchObject({ ok: true, lockAt: clock.now + 15 * 60_000 });
  });
});
