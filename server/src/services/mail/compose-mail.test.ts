import { describe, expect, it } from 'vitest';
import { isolate } from '@latchkey/shared';
import { composeMail } from './compose-mail.js';

const MESSAGE = composeMail({
  subject: 'Latchkey: two-factor method added',
  greeting: 'Hello alice,',
  paragraphs: ['An authentication app was added as a second factor to your account “alice”.'],
  action: { label: 'Review your account', url: 'https://index.example.org/manage/account/' },
  after: ['If this was not you, someone may know your password.'],
});

/** The declarations of every `style` attribute in the HTML part. */
const stylesOf = (html: string) => [...html.matchAll(/style="([^"]*)"/g)].map((match) => match[1]!);

describe('composeMail, the HTML part', () => {
  it('reads in a dark-mode client: no text colour without a background of its own, and both colour schemes declared', () => {
    // QA: the body set dark text (#1a1a1a) on no background. A client in dark mode draws the message on its
    // own dark canvas and keeps inline colours: the body text became dark grey on black (contrast about 1.1:1).
    // Text takes the client's own colour; only an element that paints its own background may set a colour.
    for (const style of stylesOf(MESSAGE.html)) {
      if (/(?:^|;)\s*color\s*:/.test(style)) expect(style, 'a text colour needs its own background').toMatch(/(?:^|;)\s*background(?:-color)?\s*:/);
    }
    expect(MESSAGE.html).toContain('<meta name="color-scheme" content="light dark"/>');
    expect(MESSAGE.html).toContain('<meta name="supported-color-schemes" content="light dark"/>');
  });

  it('is a document a screen reader and an image-blocking client can read: lang, a title, no remote resource, the link named', () => {
    expect(MESSAGE.html).toMatch(/^<!doctype html><html lang="en">/);
    expect(MESSAGE.html).toContain('<title>Latchkey: two-factor method added</title>');
    expect(MESSAGE.html).not.toMatch(/<(?:img|link|script|table|iframe)\b|\bsrc=|url\(/i);
    expect(MESSAGE.html).toContain('>Review your account</a>');
  });
});

describe('composeMail, a value someone chose inside a sentence', () => {
  it('keeps its isolate in the text part, and shows it as a <bdi> around exactly that value in the HTML part', () => {
    const mail = composeMail({
      subject: 'Latchkey: two-factor method added',
      greeting: 'Hello alice,',
      paragraphs: [`The security key “${isolate('مفتاح!')}” was added to your account “alice”.`],
      after: [`If “${isolate('2 <b>مفتاح</b>')}” was not you, remove it.`],
    });
    expect(mail.text).toContain('The security key “\u2068مفتاح!\u2069” was added to your account “alice”.');
    expect(mail.html).toContain('<p>The security key “<bdi>مفتاح!</bdi>” was added to your account “alice”.</p>');
    // Escaped inside the <bdi> as anywhere else; the HTML part holds no control characters.
    expect(mail.html).toContain('<p>If “<bdi>2 &lt;b>مفتاح&lt;/b></bdi>” was not you, remove it.</p>');
    expect(mail.html).not.toMatch(/[\u2066-\u2069]/);
    expect(mail.html.match(/<bdi>/g)).toHaveLength(2);
  });
});
