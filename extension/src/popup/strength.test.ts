import { dictionary } from '@zxcvbn-ts/language-common';
import { describe, expect, it } from 'vitest';
import { passphraseStrength } from './strength.js';

const COMMON = new Set(dictionary['passwords-common']);

describe('passphraseStrength', () => {
  it('refuses (level 0) common passwords, decorated or not, which it once called strong or fair', () => {
    for (const passphrase of ['Password123!', 'password123', 'qwertyuiop1!']) {
      expect(passphraseStrength(passphrase, COMMON), passphrase).toMatchObject({ level: 0, text: expect.stringMatching(/^Too common/) });
    }
  });

  it('refuses repeated and sequential passphrases of any length', () => {
    expect(passphraseStrength('aaaaaaaaaa', COMMON).level).toBe(0);
    expect(passphraseStrength('          ', COMMON).level).toBe(0);
    expect(passphraseStrength('1234567890', COMMON).level).toBe(0);
  });

  it('still refuses short ones first and rates real passphrases by length', () => {
    expect(passphraseStrength('abc', COMMON).text).toMatch(/^Too short/);
    expect(passphraseStrength('correct horse battery staple', COMMON)).toMatchObject({ level: 3, text: 'Strong.' });
  });
});
