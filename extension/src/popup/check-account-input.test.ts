import { describe, expect, it } from 'vitest';
import { validateTotpAccount } from '@latchkey/shared';
import { checkAccountInput, type AccountFormInput, typedFieldOf } from './check-account-input.js';

const SECRET = 'JBSWY3DPEHPK3PXP';
const paste = (uri: string, origin = 'https://pypi.org'): AccountFormInput => ({ mode: 'paste', uri, label: '', secret: '', origin });
const typed = (label: string, secret: string, origin = 'https://pypi.org'): AccountFormInput => ({ mode: 'manual', uri: '', label, secret, origin });

describe('checkAccountInput (the add form, before any prompt)', () => {
  it('accepts a pasted TOTP link and typed fields for a full origin', () => {
    expect(checkAccountInput(paste(`otpauth://totp/PyPI:alice?secret=${SECRET}&issuer=PyPI`))).toBeNull();
    expect(checkAccountInput(typed('alice', 'jbsw y3dp ehpk 3pxp', 'http://127.0.0.1:8080'))).toBeNull();
  });

  it.each([
    ['hello world', /not a two-factor link/],
    ['', /Paste the otpauth/],
    ['otpauth://hotp/x?secret=AAAA&counter=1', /HOTP/],
    ['otpauth://totp/PyPI:alice?issuer=PyPI', /no secret=/],
    ['https://pypi.org/?secret=abc', /not a two-factor link/],
    // Google Authenticator's export: named as such, with what to do instead (it was "not a two-factor link").
    [
      'otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SBEFsaWNlGgdFeGFtcGxlIAEoATACEAEYASAA',
      /^Export links from Google Authenticator \(otpauth-migration:\/\/\) are not supported: add each account from its own QR code or otpauth:\/\/ link\.$/,
    ],
  ])('reports %j on the link field', (uri, message) => {
    expect(checkAccountInput(paste(uri))).toMatchObject({ field: 'uri', message: expect.stringMatching(message) });
  });

  it('reports typed fields that cannot be right', () => {
    expect(checkAccountInput(typed('', SECRET))).toMatchObject({ field: 'label' });
    expect(checkAccountInput(typed('alice', ''))).toMatchObject({ field: 'secret' });
    expect(checkAccountInput(typed('alice', 'not base32!'))).toMatchObject({ field: 'secret', message: expect.stringMatching(/base32/) });
  });

  it('asks about an address without a scheme, offering the likely one', () => {
    expect(checkAccountInput(typed('alice', SECRET, 'pypi.org'))).toEqual({
      field: 'origin',
      message: 'Did you mean https://pypi.org? Type the address with its scheme.',
      suggestion: 'https://pypi.org',
    });
    expect(checkAccountInput(typed('alice', SECRET, 'http://example.com'))).toMatchObject({ field: 'origin', message: expect.stringMatching(/https/) });
  });
});

describe('typedFieldOf: the background refusing a typed account puts its message on the field it is about', () => {
  /** What the background's full check (the shared validator) says about typed fields. */
  const refusal = (fields: { issuer?: string; label: string; secret: string }) => {
    try {
      validateTotpAccount(fields);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('accepted');
  };
  it.each([
    [{ label: 'alice', secret: 'JBSWY3DP' }, 'secret'], // passes the popup's character check, too short for a key
    [{ label: 'alice', secret: 'A'.repeat(300) }, 'secret'],
    [{ label: 'a'.repeat(300), secret: SECRET }, 'label'],
    [{ issuer: 'P'.repeat(300), label: 'alice', secret: SECRET }, 'label'],
  ] as const)('%j → %s', (fields, field) => {
    expect(checkAccountInput({ mode: 'manual', uri: '', label: fields.label, secret: fields.secret, origin: 'https://pypi.org' })).toBeNull();
    expect(typedFieldOf(refusal(fields))).toBe(field);
  });
});
