import { describe, expect, it } from 'vitest';
import { OtpauthUriError, formatOtpauthUri, normalizeBase32Secret, parseOtpauthUri } from './otpauth-uri.js';

describe('parseOtpauthUri', () => {
  it('parses the URI PyPI-style issuers produce', () => {
    expect(parseOtpauthUri('otpauth://totp/PyPI:alice?secret=JBSWY3DPEHPK3PXP&issuer=PyPI')).toEqual({
      issuer: 'PyPI',
      label: 'alice',
      secret: 'JBSWY3DPEHPK3PXP',
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
  });

  it('takes the issuer from the label when the parameter is missing', () => {
    const account = parseOtpauthUri('otpauth://totp/ACME%20Co:john@example.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ');
    expect(account.issuer).toBe('ACME Co');
    expect(account.label).toBe('john@example.com');
  });

  it('accepts a URI with no issuer at all', () => {
    const account = parseOtpauthUri('otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP');
    expect(account).toMatchObject({ issuer: '', label: 'alice' });
  });

  it('canonicalises lower-case and padded secrets', () => {
    expect(parseOtpauthUri('otpauth://totp/x?secret=jbswy3dpehpk3pxp').secret).toBe('JBSWY3DPEHPK3PXP');
    expect(parseOtpauthUri('otpauth://totp/x?secret=JBSWY3DPEHPK3PXQ%3D%3D%3D%3D').secret).toBe('JBSWY3DPEHPK3PXQ');
    expect(parseOtpauthUri('otpauth://totp/x?secret=JBSWY3DPEHPK3PXQ====').secret).toBe('JBSWY3DPEHPK3PXQ');
  });

  it('keeps SHA256, 8 digits and 60 s', () => {
    const account = parseOtpauthUri('otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256&digits=8&period=60');
    expect(account).toMatchObject({ algorithm: 'SHA256', digits: 8, period: 60 });
  });

  it.each([
    ['', 'empty'],
    ['https://example.com', 'Not an otpauth'],
    ['otpauth://totp/x', 'no secret'],
    ['otpauth://totp/x?secret=', 'no secret'],
    ['otpauth://totp/x?secret=!!!!!!!!!!!!!!!!', 'base32'],
    ['otpauth://totp/x?secret=JBSWY3DP', 'too short'],
    ['otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1', 'HOTP'],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5', 'algorithm'],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=4', 'digits'],
    ['otpauth://totp/x?secret=%E0%A4%A', 'escaped'],
    [`otpauth://totp/x?secret=${'A'.repeat(3000)}`, 'too long'],
  ])('refuses %j with a clear message', (uri, message) => {
    expect(() => parseOtpauthUri(uri)).toThrow(OtpauthUriError);
    expect(() => parseOtpauthUri(uri)).toThrow(new RegExp(message, 'i'));
  });

  it('round-trips through formatOtpauthUri', () => {
    const account = parseOtpauthUri('otpauth://totp/Py%20PI:al%20ice?secret=JBSWY3DPEHPK3PXP&issuer=Py%20PI&period=60');
    expect(parseOtpauthUri(formatOtpauthUri(account))).toEqual(account);
  });
});

describe('normalizeBase32Secret', () => {
  it('removes spaces and dashes people type', () => {
    expect(normalizeBase32Secret('jbsw y3dp-ehpk 3pxp')).toBe('JBSWY3DPEHPK3PXP');
  });
});
