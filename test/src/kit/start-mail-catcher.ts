import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message the catcher received, parsed (mailparser). */
export interface CaughtMail {
  from: string;
  /** Envelope recipients (RCPT TO), lower-cased. */
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** The Message-ID header (one per outbox row: the same id twice means a duplicate delivery). */
  messageId: string;
  /** Every http(s) link in the text part, in order. */
  links: string[];
  receivedAt: number;
  /** The first link whose path starts with `path` (e.g. `/account/verify-email/`), or null. */
  link(path: string): string | null;
}

export interface MailMatch {
  /** Envelope recipient (case-insensitive). */
  to?: string;
  subject?: string | RegExp;
}

export interface MailCatcher {
  /** `smtp://127.0.0.1:PORT`: give it to the server as LATCHKEY_SMTP_URL (or `startTestServer({ smtpUrl })`). */
  url: string;
  port: number;
  /** Everything received so far, oldest first. */
  readonly messages: readonly CaughtMail[];
  /** Messages matching `match`, oldest first. */
  find(match: MailMatch): CaughtMail[];
  /**
   * Wait until `count` (default 1) messages match, then return the newest of them. Rejects after
   * `timeoutMs` (default 30 s) saying what arrived instead.
   */
  waitForMail(match: MailMatch, options?: { count?: number; timeoutMs?: number }): Promise<CaughtMail>;
  /** Stop accepting connections (an SMTP outage); `resume()` listens on the same port again. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real SMTP server (npm `smtp-server`) in the test process, on a loopback port, that keeps every
 * message it receives (parsed with `mailparser`): journeys read the mail the server sent and follow its
 * links, as a person would. No TLS and no authentication (loopback only).
 *
 * @example
 * ```ts
 * const mail = await startMailCatcher();
 * const server = await startTestServer({ smtpUrl: mail.url });
 * // … register as alice@example.org in the browser …
 * const message = await mail.waitForMail({ to: 'alice@example.org', subject: /verify/ });
 * await page.goto(message.link('/account/verify-email/')!);
 * ```
 */
export async function startMailCatcher(options: { port?: number } = {}): Promise<MailCatcher> {
  const messages: CaughtMail[] = [];
  const waiters = new Set<() => void>();
  let smtp: SMTPServer | null = null;

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = new SMTPServer({
        authOptional: true,
        // nodemailer would upgrade to TLS when offered, and reject smtp-server's self-signed certificate.
        disabledCommands: ['STARTTLS', 'AUTH'],
        logger: false,
        size: 1024 * 1024,
        onData(stream, session, callback) {
          simpleParser(stream)
            .then((parsed) => {
              const text = parsed.text ?? '';
              const links = text.match(/https?:\/\/[^\s<>"]+/g) ?? [];
              messages.push({
                from: addressText(parsed.from),
                to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
                subject: parsed.subject ?? '',
                text,
                html: typeof parsed.html === 'string' ? parsed.html : '',
                messageId: parsed.messageId ?? '',
                links,
                receivedAt: Date.now(),
                link: (path) => links.find((link) => new URL(link).pathname.startsWith(path)) ?? null,
              });
              for (const wake of waiters) wake();
              callback();
            })
            .catch((error: Error) => callback(error));
        },
      });
      server.on('error', () => undefined);
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        smtp = server;
        resolve((server.server.address() as AddressInfo).port);
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      const server = smtp;
      smtp = null;
      if (!server) return resolve();
      server.close(() => resolve());
    });

  const port = await listen(options.port ?? 0);
  const matches = (mail: CaughtMail, match: MailMatch) =>
    (match.to === undefined || mail.to.includes(match.to.toLowerCase())) &&
    (match.subject === undefined || (typeof match.subject === 'string' ? mail.subject.includes(match.subject) : match.subject.test(mail.subject)));
  const find = (match: MailMatch) => messages.filter((mail) => matches(mail, match));

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    find,
    waitForMail(match, { count = 1, timeoutMs = 30_000 } = {}) {
      return new Promise<CaughtMail>((resolve, reject) => {
        const check = () => {
          const found = find(match);
          if (found.length < count) return false;
          cleanup();
          resolve(found.at(-1)!);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          const seen = messages.map((mail) => `${mail.to.join(',')}: ${mail.subject}`).join('; ') || 'nothing';
          reject(
            new Error(
              `waitForMail: no ${count} message(s) matching ${JSON.stringify({ ...match, subject: String(match.subject ?? '') })} within ${timeoutMs} ms; received: ${seen}`,
            ),
          );
        }, timeoutMs);
        const wake = () => void check();
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
        check();
      });
    },
    pause: stop,
    async resume() {
      if (!smtp) await listen(port);
    },
    close: stop,
  };
}

function addressText(address: AddressObject | AddressObject[] | undefined): string {
  if (!address) return '';
  return (Array.isArray(address) ? address : [address]).map((item) => item.text).join(', ');
}
