import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { isolate } from '@latchkey/shared';
import { unlinkable } from './unlinkable.js';

/**
 * The links a mail client finds in a plain-text body: mailparser's `textAsHtml`, which links as eagerly as
 * clients do (full TLD list, bare host names, IPv4 addresses, addresses, `//host`, even @mentions).
 */
async function linksFoundIn(text: string): Promise<string[]> {
  const parsed = await simpleParser(`Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n`);
  return [...String(parsed.textAsHtml ?? '').matchAll(/<a href="([^"]*)"/g)].map((match) => match[1]!);
}

/** Labels someone holding only a session could give a key to plant a link in the owner's notices. */
const HOSTILE = [
  'https://evil.example/x',
  'HTTPS://EVIL.COM/LOGIN',
  'evil.com/login',
  'www.evil.com',
  'http://localhost/x',
  '//localhost/x',
  '10.0.0.1/x',
  '@evilhandle',
  'see evil.com or https://evil.net',
];

describe('unlinkable', () => {
  it('leaves labels with nothing linkable exactly as they are', () => {
    for (const label of ['blue USB key', 'YubiKey 5.1', 'Key №2 (backup)', 'clé de secours', 'work: laptop / desk', 'v1.2.3'])
      expect(unlinkable(label)).toBe(label);
  });

  it('quotes a URL, a host name or an address so people still read it', () => {
    expect(unlinkable('https://evil.example/x')).toBe('https[://]evil[.]example/x');
    expect(unlinkable('www.evil.com')).toBe('www[.]evil[.]com');
    expect(unlinkable('victim@evil.com')).toBe('victim[@]evil[.]com');
    expect(unlinkable('//localhost/x')).toBe('/[/]localhost/x');
    expect(unlinkable('10.0.0.1')).toBe('10[.]0[.]0[.]1');
    // An ideographic or full-width full stop is a dot to IDNA (a client that follows the name goes to evil.com).
    expect(unlinkable('evil\u3002com/x')).toBe('evil[.]com/x');
    expect(unlinkable('evil\uFF0Ecom')).toBe('evil[.]com');
  });

  it('leaves no link for a mail client to find, where the label as it was would have been one', async () => {
    for (const label of HOSTILE) {
      // The oracle does find the label's link as it is: otherwise this test could not fail.
      expect(await linksFoundIn(`the security key “${label}” was removed.`), label).not.toEqual([]);
      expect(await linksFoundIn(`the security key “${unlinkable(label)}” was removed.`), label).toEqual([]);
    }
  });

  it('still leaves no link once the quoted label is in its bidi isolate, as notices quote it (FSI … PDI around it)', async () => {
    // The isolate is no protection of its own: mailparser still links a bare host name or a second URL in it (and
    // some clients match differently around the controls), so the defanging is still what keeps links out.
    expect(await linksFoundIn(`the security key “${isolate('evil.com/login')}” was removed.`)).not.toEqual([]);
    expect(await linksFoundIn(`the security key “${isolate('see evil.com or https://evil.net')}” was removed.`)).not.toEqual([]);
    for (const label of HOSTILE) {
      expect(await linksFoundIn(`the security key “${isolate(unlinkable(label))}” was removed.`), label).toEqual([]);
    }
  });
});
