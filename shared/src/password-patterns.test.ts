import { describe, expect, it } from 'vitest';
import { passwordPattern } from './password-patterns.js';

const COMMON = new Set(['password', 'qwertyuiop', 'letmein']);

describe('passwordPattern', () => {
  it('finds common passwords in any case and behind digits and symbols at either end', () => {
    expect(passwordPattern('Password123!', COMMON)).toBe('common');
    expect(passwordPattern('!!LetMeIn2024', COMMON)).toBe('common');
    expect(passwordPattern('qwertyuiop', COMMON)).toBe('common');
  });

  it('does not call a word common when it is only part of a longer phrase or decorated beyond six characters', () => {
    expect(passwordPattern('password horse battery', COMMON)).toBeNull();
    expect(passwordPattern('password1234567', COMMON)).toBeNull();
  });

  it('checks no list when none is given', () => {
    expect(passwordPattern('Password123!')).toBeNull();
  });

  it('finds one block repeated, whatever the case', () => {
    expect(passwordPattern('aaaaaaaaaa')).toBe('repeated');
    expect(passwordPattern('          ')).toBe('repeated');
    expect(passwordPattern('AbcABCabcaBC')).toBe('repeated');
    expect(passwordPattern('abababababab')).toBe('repeated');
  });

  it('finds runs up or down, digits wrapping 9 to 0', () => {
    expect(passwordPattern('1234567890')).toBe('sequential');
    expect(passwordPattern('9876543210')).toBe('sequential');
    expect(passwordPattern('abcdefghijkl')).toBe('sequential');
  });

  it('accepts unrelated words', () => {
    expect(passwordPattern('correct horse battery staple', COMMON)).toBeNull();
    expect(passwordPattern('ZebraQuiltNineteen', COMMON)).toBeNull();
  });
});
