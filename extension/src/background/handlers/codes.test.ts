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
});
