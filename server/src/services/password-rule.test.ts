import { describe, expect, it } from 'vitest';
import { checkNewPassword, PASSWORD_MAX_LENGTH } from './password-rule.js';

const refused = (password: string, username?: string) => {
  const check = checkNewPassword(password, { username });
  return check.ok ? null : check.message;
};

describe('checkNewPassword (NIST SP 800-63B 5.1.1.2)', () => {
  it('refuses the common passwords the attack got accepted (issue 14 point 5), saying why', () => {
    for (const password of ['aaaaaaaaaaaa', 'password1234', '123456789012']) {
      expect(refused(password), password).toMatch(/commonly used|repeated or sequential/);
    }
    expect(refused('password1234')).toMatch(/list of commonly used or breached passwords/);
  });

  it('refuses list entries whatever their case, and common words dressed up with digits or symbols', () => {
    expect(refused('QwertyUIOP12')).toMatch(/commonly used/);
    expect(refused('iloveyou1234')).toMatch(/commonly used/);
    expect(refused('!!Superman2024')).toMatch(/commonly used/);
  });

  it('refuses repetitive and sequential patterns', () => {
    expect(refused('abcabcabcabc')).toMatch(/repeated or sequential/);
    expect(refused('abcdefghijklm')).toMatch(/repeated or sequential/);
    expect(refused('987654321098')).toMatch(/repeated or sequential/);
    expect(refused('ZZZZZZZZZZZZZZ')).toMatch(/repeated or sequential/);
  });

  it('refuses the username and the service name inside the password', () => {
    expect(refused('alice-the-great-42', 'Alice')).toMatch(/username/);
    expect(refused('my latchkey secret', 'bob')).toMatch(/name of this service/);
  });

  it('refuses the configured index’s name (LATCHKEY_RP_NAME) inside the password, its words with any separators or run together', () => {
    const withIndex = (password: string, indexName: string) => {
      const check = checkNewPassword(password, { username: 'zed', indexName });
      return check.ok ? null : check.message;
    };
    const message = 'The password must not contain the name of this service (“Example Index”).';
    for (const password of [
      'welcome to example index!',
      'EXAMPLE-INDEX forever and ever',
      'my exampleindex password',
      'the Example_Index, 2026',
      'ｅｘａｍｐｌｅ ｉｎｄｅｘ ok ok',
    ]) {
      expect(withIndex(password, 'Example Index'), password).toBe(message);
    }
    expect(withIndex('i love acme packages', 'ACME (packages)')).toMatch(/name of this service \(“ACME \(packages\)”\)/);
    // Without the configured name only this software's own is refused; one word of the name alone is fine.
    expect(refused('welcome to example index!')).toBeNull();
    expect(withIndex('an index of example sentences', 'Example Index')).toBeNull();
    // Under 3 letters and digits it is no word to refuse (as for usernames).
    expect(withIndex('a pi of pie and pies', 'PI')).toBeNull();
    // `latchkey` stays refused whatever the index is called.
    expect(withIndex('my latchkey secret', 'Example Index')).toMatch(/name of this service/);
  });

  it('refuses the e-mail address, or the name before its @ (also before a "+tag"), inside the password', () => {
    const withEmail = (password: string, email: string) => {
      const check = checkNewPassword(password, { username: 'zed', email });
      return check.ok ? null : check.message;
    };
    const message = 'The password must not contain your e-mail address or the name before its @.';
    expect(withEmail('henrietta.lacks@example.org', 'henrietta.lacks@example.org')).toBe(message);
    expect(withEmail('Henrietta.Lacks and her cells', ' Henrietta.Lacks@Example.org ')).toBe(message);
    expect(withEmail('henrietta.lacks and her cells', 'henrietta.lacks+pypi@example.org')).toBe(message);
    // Full-width letters are the same password once normalised (NFKC), so they are the same name.
    expect(withEmail('ｈｅｎｒｉｅｔｔａ.ｌａｃｋｓ rides on', 'henrietta.lacks@example.org')).toBe(message);
    // Not the domain, and not a name of under 3 characters (as for usernames).
    expect(withEmail('example.org is my favourite', 'henrietta@example.org')).toBeNull();
    expect(withEmail('monkey wrench on the stairs', 'mo@example.org')).toBeNull();
    // Without a well-formed address there is nothing to compare.
    expect(withEmail('henrietta lacks a horse', 'henrietta')).toBeNull();
  });

  it('applies the length bounds: 12 code points at least, 1024 characters at most', () => {
    expect(refused('Tr0ub4dor&3')).toMatch(/at least 12/);
    // 12 code points that are 24 UTF-16 units: long enough.
    expect(refused('🦊🐙🦉🐝🦋🐞🐢🦎🐍🦖🦕🐳')).toBeNull();
    const long = Array.from({ length: PASSWORD_MAX_LENGTH + 1 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join('');
    expect(refused(long)).toMatch(/at most 1024/);
    expect(refused(long.slice(0, PASSWORD_MAX_LENGTH))).toBeNull();
  });

  it('accepts long passphrases and generated passwords', () => {
    expect(refused('correct horse battery staple')).toBeNull();
    expect(refused('v8#Lq2!zR@9w')).toBeNull();
    expect(refused('monkey wrench on the stairs', 'al')).toBeNull();
  });

  it('judges the password that is hashed: full-width letters normalise (NFKC) to a common password', () => {
    expect(refused('ｐａｓｓｗｏｒｄ１２３４')).toMatch(/commonly used/);
  });
});
