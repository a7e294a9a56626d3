import { describe, expect, it } from 'vitest';
import { normalizeOrigin, originMatches, OriginError } from './origin.js';

describe('originMatches', () => {
  // [account origin, tab URL, fills?]
  const table: Array<[string, string | undefined, boolean, string]> = [
    ['https://pypi.org', 'https://pypi.org/account/two-factor/?token=x', true, 'same origin, any path'],
    ['https://pypi.org', 'https://pypi.org:443/account/two-factor/', true, 'default port written out'],
    ['https://pypi.org', 'https://PyPI.org/account/', true, 'host case is not significant'],
    ['https://pypi.org', 'https://test.pypi.org/account/', false, 'subdomain'],
    ['https://test.pypi.org', 'https://pypi.org/account/', false, 'parent domain'],
    ['https://pypi.org', 'https://evil.pypi.org/account/', false, 'other subdomain'],
    ['https://pypi.org', 'https://pypi.org.evil.com/account/', false, 'suffix lookalike'],
    ['https://pypi.org', 'https://evilpypi.org/', false, 'prefix lookalike'],
    ['https://pypi.org', 'https://pypl.org/', false, 'typo lookalike'],
    ['https://pypi.org', 'https://xn--pyp-ted.org/', false, 'punycode lookalike'],
    ['https://pypi.org', 'https://pypі.org/', false, 'Cyrillic і (IDN homograph)'],
    ['https://pypi.org', 'https://pypi.org./account/', false, 'trailing dot is another origin'],
    ['https://pypi.org', 'http://pypi.org/account/', false, 'http vs https'],
    ['http://localhost:8080', 'https://localhost:8080/', false, 'https vs http'],
    ['https://pypi.org', 'https://pypi.org:8443/', false, 'other port'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8081/', false, 'other loopback port'],
    ['http://127.0.0.1:8080', 'http://localhost:8080/', false, 'localhost vs 127.0.0.1'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/account/two-factor/', true, 'loopback exact'],
    ['https://pypi.org', 'https://user@pypi.org/', true, 'userinfo in tab URL does not change the origin'],
    ['https://pypi.org', 'https://pypi.org@evil.com/', false, 'userinfo trick: host is evil.com'],
    ['https://pypi.org', 'https://pypi.org%2f@evil.com/', false, 'encoded slash userinfo trick'],
    ['https://pypi.org', 'blob:https://pypi.org/uuid', false, 'blob URL'],
    ['https://pypi.org', 'data:text/html,<input name=totp_value>', false, 'data URL'],
    ['https://pypi.org', 'about:blank', false, 'about:blank'],
    ['https://pypi.org', 'chrome://extensions', false, 'browser page'],
    ['https://pypi.org', undefined, false, 'tab URL not visible'],
    ['https://pypi.org', 'not a url', false, 'garbage'],
    ['https://PyPI.org', 'https://pypi.org/', false, 'non-canonical stored origin never matches'],
    ['https://pypi.org/', 'https://pypi.org/', false, 'stored origin with a path never matches'],
    ['https://xn--80ak6aa92e.com', 'https://аррӏе.com/', true, 'IDN stored as punycode matches its own page'],
  ];
  it.each(table)('%s on %s → %s (%s)', (account, tab, expected) => {
    expect(originMatches(account, tab)).toBe(expected);
  });
});

describe('normalizeOrigin', () => {
  it.each([
    ['https://pypi.org/account/two-factor/?x=1#y', 'https://pypi.org'],
    ['HTTPS://PyPI.ORG:443', 'https://pypi.org'],
    ['https://pypi.org:8443', 'https://pypi.org:8443'],
    ['http://localhost:3000/', 'http://localhost:3000'],
    ['http://127.0.0.1:49152', 'http://127.0.0.1:49152'],
    ['  https://test.pypi.org  ', 'https://test.pypi.org'],
    ['https://аррӏе.com', 'https://xn--80ak6aa92e.com'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeOrigin(input)).toBe(expected);
  });

  it.each([
    ['', /empty/],
    ['http://pypi.org', /https/],
    ['ftp://pypi.org', /https/],
    ['javascript:alert(1)', /https/],
    ['https://user:pw@pypi.org', /user name/],
    ['https://', /web address/],
    ['https://exa mple.com', /web address/],
  ])('refuses %j', (input, message) => {
    expect(() => normalizeOrigin(input)).toThrow(OriginError);
    expect(() => normalizeOrigin(input)).toThrow(message);
  });

  // A missing scheme is a question for the person, not a guess: https:// and http:// are different sites.
  it.each([
    ['pypi.org', 'https://pypi.org'],
    ['  test.pypi.org/account/ ', 'https://test.pypi.org'],
    ['localhost:8080', 'http://localhost:8080'],
    ['127.0.0.1:49152', 'http://127.0.0.1:49152'],
    ['//pypi.org', 'https://pypi.org'],
  ])('asks about %j instead of choosing a scheme (suggests %s)', (input, suggestion) => {
    let error: unknown;
    try {
      normalizeOrigin(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OriginError);
    expect((error as OriginError).suggestion).toBe(suggestion);
    expect((error as OriginError).message).toBe(`Did you mean ${suggestion}? Type the address with its scheme.`);
  });

  it('gives no suggestion for what is not an address even with a scheme', () => {
    expect(() => normalizeOrigin('hello world')).toThrow(/not a web address/);
    try {
      normalizeOrigin('hello world');
    } catch (error) {
      expect((error as OriginError).suggestion).toBeUndefined();
    }
  });
});
