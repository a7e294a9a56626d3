import { describe, expect, it } from 'vitest';
import { emailProblem } from './accounts.js';
import { emailKey, NON_ASCII_LOCAL_PART_MESSAGE, normalizeEmailAddress } from './email-address.js';

describe('emailProblem', () => {
  it.each(['alice@example.org', `${'a'.repeat(64)}@example.org`, 'a.b+tag@sub.example.co.uk', 'jose@exämple.org', 'x@xn--exmple-cua.org'])(
    'accepts %s',
    (email) => {
      expect(emailProblem(email)).toBeNull();
    },
  );

  it('refuses a local part over 64 octets (RFC 5321): its mail would never arrive', () => {
    expect(emailProblem(`${'a'.repeat(65)}@example.org`)).toMatch(/part before the @ is too long/);
  });

  it.each(['.alice@example.org', 'alice.@example.org', 'al..ice@example.org'])(
    'refuses %s: the part before the @ is dot-separated words (RFC 5321 Dot-string)',
    (email) => {
      expect(emailProblem(email)).toMatch(/cannot start or end with a dot, or have two dots in a row/);
    },
  );

  it.each(['', 'alice', 'alice@example', 'a lice@example.org', 'alice@exa\u200bmple.org', `${'a'.repeat(250)}@example.org`])('refuses %j', (email) => {
    expect(emailProblem(email)).not.toBeNull();
  });
});

/**
 * QA: `jörg@example.org` was accepted and mailed raw; a relay without SMTPUTF8 (RFC 6531) refuses it on
 * every retry, so the verification link never arrived. And a precomposed and a decomposed "é" were two
 * addresses.
 */
describe('normalizeEmailAddress', () => {
  it('refuses a non-ASCII part before the @ (it needs SMTPUTF8 on every hop), however it is composed, saying what to use', () => {
    for (const typed of ['jörg@example.org', 'jo\u0308rg@example.org', 'josé@example.org', 'ｊｏｒｇ@example.org', `${'é'.repeat(33)}@example.org`]) {
      expect(normalizeEmailAddress(typed), typed).toEqual({ ok: false, message: NON_ASCII_LOCAL_PART_MESSAGE });
    }
    expect(NON_ASCII_LOCAL_PART_MESSAGE).toMatch(/^Use an address whose part before the @ has only ASCII characters/);
  });

  it('accepts an internationalised domain in its ASCII form (IDNA), whichever way its accents are composed', () => {
    for (const typed of ['jorg@exämple.org', 'jorg@exa\u0308mple.org', ' jorg@EXÄMPLE.ORG ', 'jorg@xn--exmple-cua.org', 'jorg@ｅｘäｍｐｌｅ．org']) {
      expect(normalizeEmailAddress(typed), typed).toEqual({ ok: true, address: 'jorg@xn--exmple-cua.org' });
    }
    // The local part keeps its case (we do not rely on it, but it is the owner's spelling); the domain is lower case.
    expect(normalizeEmailAddress('Henrietta.Lacks@Example.org')).toEqual({ ok: true, address: 'Henrietta.Lacks@example.org' });
  });

  it('refuses a domain that is no host name once in ASCII', () => {
    for (const typed of ['a@xn--zz.org', 'a@exa%mple.org', 'a@ex_ample.org', 'a@-bad.org', 'a@example.org.', 'a@a..org', `a@${'b'.repeat(64)}.org`]) {
      expect(normalizeEmailAddress(typed), typed).toEqual({ ok: false, message: 'The part after the @ is not a valid domain name: check the address.' });
    }
  });

  it('refuses an address whose ASCII form is longer than 254 characters', () => {
    const labels = Array.from({ length: 7 }, () => 'ä'.repeat(30)).join('.');
    expect(`a@${labels}.org`.length).toBeLessThanOrEqual(254);
    expect(normalizeEmailAddress(`a@${labels}.org`)).toMatchObject({ ok: false });
  });
});

describe('emailKey', () => {
  it('gives one key for every spelling of one address: case, composition, Unicode or ASCII domain', () => {
    const key = emailKey('jorg@xn--exmple-cua.org');
    for (const typed of ['JORG@exämple.org', 'jorg@exa\u0308mple.org', ' Jorg@XN--EXMPLE-CUA.ORG ']) expect(emailKey(typed), typed).toBe(key);
    // Addresses the rule refuses (stored before it) are keyed as far as they go: NFC and lower case.
    expect(emailKey('JO\u0308RG@example.org')).toBe('jörg@example.org');
  });

  it('keys a key, and the older key (trimmed, lower case), to the same key: one lookup key finds the rows migration 010 re-keyed', () => {
    for (const typed of ['Jo\u0308rg@Exämple.org', ' ANN@XN--EXMPLE-CUA.ORG', 'İstanbul@Bücher.example', 'Straße@example.org', 'alice', 'a@%bad', 'x@xn--zz']) {
      expect(emailKey(emailKey(typed)), typed).toBe(emailKey(typed));
      expect(emailKey(typed.trim().toLowerCase()), typed).toBe(emailKey(typed));
    }
  });
});
