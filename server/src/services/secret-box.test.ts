import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, seal } from './secret-box.js';

describe('secret box (AES-256-GCM)', () => {
  const key = randomBytes(32);

  it('round-trips and uses a fresh nonce each time', () => {
    const a = seal(key, 'JBSWY3DPEHPK3PXP', 'totp:user-1');
    const b = seal(key, 'JBSWY3DPEHPK3PXP', 'totp:user-1');
    expect(a).not.toBe(b);
    expect(open(key, a, 'totp:user-1')).toBe('JBSWY3DPEHPK3PXP');
  });

  it('refuses another row (associated data), another key, and any tampering', () => {
    const sealed = seal(key, 'secret', 'totp:user-1');
    expect(() => open(key, sealed, 'totp:user-2')).toThrow();
    expect(() => open(randomBytes(32), sealed, 'totp:user-1')).toThrow();
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[14] = (bytes[14] ?? 0) ^ 1;
    expect(() => open(key, `v1.${bytes.toString('base64url')}`, 'totp:user-1')).toThrow();
    expect(() => open(key, 'v2.AAAA', 'totp:user-1')).toThrow();
  });
});
