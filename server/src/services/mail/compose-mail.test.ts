import { describe, expect, it } from 'vitest';
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
