/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { splitIsolates } from '@latchkey/shared';
import { render } from 'preact-render-to-string';

/** What a message says, independent of its format. Never put a secret here (a code, a TOTP secret, a password). */
export interface MailContent {
  subject: string;
  /** The greeting line, e.g. `Hello alice,`. */
  greeting: string;
  /**
   * Plain sentences; each becomes a paragraph. A value someone chose goes in as `isolate(value)` (@latchkey/shared):
   * FSI … PDI in the text part, a `<bdi>` in the HTML part ({@link Sentence}).
   */
  paragraphs: string[];
  /** One link the message is about (verify, reset, review your account): an absolute URL on LATCHKEY_ORIGIN. */
  action?: { label: string; url: string };
  /** Sentences after the link (e.g. "If this was not you…"). */
  after?: string[];
  /**
   * How to reach the index's administrators (LATCHKEY_SUPPORT_CONTACT), last before the signature: `lead`,
   * then the address or URL when one is set (a plain link in HTML: it takes the client's colours).
   */
  contact?: { lead: string; link: { label: string; url: string } | null };
}

export interface ComposedMail {
  subject: string;
  text: string;
  html: string;
}

const SIGNATURE = 'This message was sent automatically by the account server of this index. Replies are not read.';

/**
 * The one element that paints a colour: the link as a button, its own background behind its own text
 * (white on #0b5cad, 6.7:1), so it reads the same on a light or a dark canvas.
 */
const BUTTON_STYLE = 'display: inline-block; padding: 0.5em 1em; background: #0b5cad; color: #ffffff; text-decoration: none; border-radius: 4px;';

/**
 * A sentence of the HTML part: each isolate in it (FSI … PDI, put there by `isolate`) becomes a `<bdi>`, the HTML
 * form of the same isolate, so the HTML holds no control characters (what a reader copies is the plain value) and
 * a right-to-left key label cannot take the sentence's quotes and punctuation into its run. The text part keeps
 * the characters: they do the same there.
 */
function Sentence({ text }: { text: string }) {
  return <>{splitIsolates(text).map((piece) => (piece.isolated ? <bdi>{piece.text}</bdi> : piece.text))}</>;
}

/**
 * The plain-text and HTML bodies of one message, saying the same thing: clients that show HTML get a
 * simple escaped document (Preact escapes every value), the others the text part with the link on its own line.
 *
 * The HTML part sets no text colour: a client in dark mode draws the message on its own dark canvas and
 * keeps inline colours, so the dark grey text it used to set was dark on black (QA: about 1.1:1; WCAG 2.2
 * 1.4.3 asks 4.5:1). Text takes the client's colours, for either scheme (`color-scheme`, and Apple Mail's
 * `supported-color-schemes`, say both are fine); only the button paints, on a background of its own.
 */
export function composeMail(content: MailContent): ComposedMail {
  if (/[\r\n]/.test(content.subject)) throw new TypeError('composeMail: a subject is one line.');
  const after = content.after ?? [];
  const text = [
    content.greeting,
    ...content.paragraphs,
    ...(content.action ? [`${content.action.label}:\n${content.action.url}`] : []),
    ...after,
    ...(content.contact ? [content.contact.link ? `${content.contact.lead} ${content.contact.link.label}` : content.contact.lead] : []),
    `-- \n${SIGNATURE}`,
  ].join('\n\n');
  const html = `<!doctype html>${render(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="supported-color-schemes" content="light dark" />
        <title>{content.subject}</title>
      </head>
      <body style="font-family: system-ui, sans-serif; line-height: 1.5; max-width: 40em;">
        <p>
          <Sentence text={content.greeting} />
        </p>
        {content.paragraphs.map((paragraph) => (
          <p>
            <Sentence text={paragraph} />
          </p>
        ))}
        {content.action && (
          <p>
            <a href={content.action.url} style={BUTTON_STYLE}>
              {content.action.label}
            </a>
          </p>
        )}
        {content.action && (
          <p style="font-size: 0.9em;">
            Or copy this address into your browser: <span style="word-break: break-all;">{content.action.url}</span>
          </p>
        )}
        {after.map((paragraph) => (
          <p>
            <Sentence text={paragraph} />
          </p>
        ))}
        {content.contact && (
          <p>
            {content.contact.lead}
            {content.contact.link && (
              <>
                {' '}
                <a href={content.contact.link.url}>{content.contact.link.label}</a>
              </>
            )}
          </p>
        )}
        <hr />
        <p style="font-size: 0.85em;">{SIGNATURE}</p>
      </body>
    </html>,
  )}`;
  return { subject: content.subject, text, html };
}
