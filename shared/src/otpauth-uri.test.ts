import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { OtpauthUriError, type TotpAccountParams, formatOtpauthUri, normalizeBase32Secret, parseOtpauthUri, validateTotpAccount } from './otpauth-uri.js';

/** What an otpauth-migration:// link (Google Authenticator's export) is told, as it is written here on purpose. */
const MIGRATION = 'Export links from Google Authenticator (otpauth-migration://) are not supported: add each account from its own QR code or otpauth:// link.';

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

  it.each([
    ['otpauth://totp/?secret=JBSWY3DPEHPK3PXP', 'The link has no account name (the part after otpauth://totp/).'],
    ['otpauth://totp?secret=JBSWY3DPEHPK3PXP&issuer=PyPI', 'The link has no account name (the part after otpauth://totp/).'],
    ['otpauth://totp/PyPI:?secret=JBSWY3DPEHPK3PXP', 'The link has no account name (the part after otpauth://totp/).'],
    ['otpauth://totp/PyPI%3A%20?secret=JBSWY3DPEHPK3PXP', 'The link has no account name (the part after otpauth://totp/).'],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5', 'The link’s algorithm is not supported: use SHA1, SHA256 or SHA512.'],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=SHA224', 'The link’s algorithm is not supported: use SHA1, SHA256 or SHA512.'],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=six', 'The link’s number of digits is not supported: codes must have 6, 7 or 8 digits.'],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0', 'The link’s period is not supported: it must be a whole number of seconds from 10 to 300.'],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=30s', 'The link’s period is not supported: it must be a whole number of seconds from 10 to 300.'],
    [
      'otpauth://totp/x%E0%A4%A?secret=JBSWY3DPEHPK3PXP',
      'The link has a badly escaped character (a % not followed by a valid code): copy it again from the site.',
    ],
    [
      'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&issuer=%E0%A4%A',
      'The link has a badly escaped character (a % not followed by a valid code): copy it again from the site.',
    ],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&', 'The link is not a valid otpauth:// address (it may be cut off or changed). Copy it again from the site.'],
    [
      'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&issuer=a?b',
      'The link is not a valid otpauth:// address (it may be cut off or changed). Copy it again from the site.',
    ],
    ['otpauth://foo/x?secret=JBSWY3DPEHPK3PXP', 'This is not a two-factor link: it must start with otpauth://totp/.'],
    // Google Authenticator's "Transfer accounts" export: many accounts in one protobuf blob, not a key URI (QA).
    ['otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SBEFsaWNlGgdFeGFtcGxlIAEoATACEAEYASAA', MIGRATION],
    ['OTPAUTH-MIGRATION://offline?data=CjEK', MIGRATION],
  ])('says what is wrong with %j in words a person can act on, never the library’s own', (uri, message) => {
    expect(() => parseOtpauthUri(uri)).toThrow(OtpauthUriError);
    expect(() => parseOtpauthUri(uri)).toThrow(message);
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

describe('one form for each secret', () => {
  const code = (account: TotpAccountParams, timestamp: number) =>
    new TOTP({ secret: Secret.fromBase32(account.secret), algorithm: account.algorithm, digits: account.digits, period: account.period }).generate({
      timestamp,
    });

  it.each([
    // 17 characters: the last one holds only bits past the tenth byte.
    ['JBSWY3DPEHPK3PXPA', 'JBSWY3DPEHPK3PXP'],
    ['jbsw y3dp ehpk 3pxp a', 'JBSWY3DPEHPK3PXP'],
    // 26 characters: H and E differ only in the two bits past the sixteenth byte.
    ['JBSWY3DPEHPK3PXPJBSWY3DPEH', 'JBSWY3DPEHPK3PXPJBSWY3DPEE'],
    ['JBSWY3DPEHPK3PXPJBSWY3DPEE', 'JBSWY3DPEHPK3PXPJBSWY3DPEE'],
  ])('typed %j and pasted in a link give the same secret %j and the same codes', (typedSecret, canonical) => {
    const typed = validateTotpAccount({ issuer: 'PyPI', label: 'alice', secret: typedSecret });
    const pasted = parseOtpauthUri(`otpauth://totp/PyPI:alice?secret=${encodeURIComponent(typedSecret)}&issuer=PyPI`);
    expect(typed.secret).toBe(canonical);
    expect(pasted).toEqual(typed);
    for (const timestamp of [59_000, 1_111_111_109_000, Date.UTC(2026, 0, 1)]) expect(code(pasted, timestamp)).toBe(code(typed, timestamp));
  });

  it('keeps the RFC 6238 test key (20 bytes, already canonical) as it is', () => {
    const rfc = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890"
    const account = validateTotpAccount({ label: 'rfc', secret: rfc, digits: 8 });
    expect(account.secret).toBe(rfc);
    expect(code(account, 59_000)).toBe('94287082');
    expect(code(account, 1_111_111_109_000)).toBe('07081804');
  });
});
