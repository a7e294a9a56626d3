import { describe, expect, it } from 'vitest';
import { emailProblem } from './accounts.js';

describe('emailProblem', () => {
  it.each(['alice@example.org', `${'a'.repeat(64)}@example.org`, 'josé@example.org', 'a.b+tag@sub.example.co.uk'])('accepts %s', (email) => {
    expect(emailProblem(email)).toBeNull();
  });

  it('refuses a local part over 64 octets (RFC 5321), counted in UTF-8: its mail would never arrive', () => {
    expect(emailProblem(`${'a'.repeat(65)}@example.org`)).toMatch(/part before the @ is too long/);
    expect(emailProblem(`${'é'.repeat(33)}@example.org`)).toMatch(/part before the @ is too long/);
  });

  it.each(['', 'alice', 'alice@example', 'a lice@example.org', 'alice@exa\u200bmple.org', `${'a'.repeat(250)}@example.org`])('refuses %j', (email) => {
    expect(emailProblem(email)).not.toBeNull();
  });
});
