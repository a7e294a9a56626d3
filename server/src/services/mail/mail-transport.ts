import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { isLoopbackHost } from '@latchkey/shared';
import type { MailTransportConfig } from '../../config.js';

/** One fully addressed message, as a transport delivers it. */
export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Stable per outbox row, so a receiving system can drop a duplicate delivered after a crash ({@link messageIdFor} adds the domain). */
  messageId: string;
  date: Date;
}

export interface SendOptions {
  /** Aborts the attempt (closing its SMTP connection): the sender's deadline, inside its lease on the row. */
  signal?: AbortSignal;
}

export interface MailTransport {
  /** Deliver or throw (the sender retries). Resolving means the message was accepted. */
  send(message: MailMessage, options?: SendOptions): Promise<void>;
  /** For the start-up log: where mail goes (never credentials). */
  describe(): string;
  /** For the start-up log, as a warning: why this configuration is wrong for production, or null. */
  warning(): string | null;
  close(): void;
}

/**
 * Per step (connect, greeting, each command's reply): a dead server fails fast. They do not bound a whole
 * attempt — a slow server answering each command within them can take minutes — so the sender also aborts
 * each attempt at its own deadline (mail-sender.ts `sendDeadline`), inside its lease on the row.
 */
const SMTP_TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000 };

/**
 * `smtp://` upgrades with STARTTLS only when the server offers it, so whoever sits between us and a remote
 * server can strip the offer and read the login (QA: AUTH PLAIN went out in clear). With credentials in the
 * URL, TLS is required unless the server is on this machine; `?requireTLS=false` in the URL overrides it.
 */
export function requiresTls(url: URL): boolean {
  return url.protocol === 'smtp:' && (url.username !== '' || url.password !== '') && !isLoopbackHost(url.hostname);
}

/**
 * Headers every message carries, whichever transport writes it. Auto-Submitted (RFC 3834 section 5) tells
 * vacation and out-of-office responders not to answer: their reply would go to the no-reply sender, and
 * some quote the message they answer, reset link included. Exchange reads its own header for the same
 * (MS-OXCMAIL 2.2.3.2.14). There is deliberately no List-Unsubscribe: a security notice is not optional.
 */
export const AUTOMATED_MAIL_HEADERS: Readonly<Record<string, string>> = { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' };

/**
 * The Message-ID of an outbox row: its id on the domain of the From address (LATCHKEY_MAIL_FROM, by default
 * on LATCHKEY_ORIGIN's host). RFC 5322 3.6.4 makes the right-hand side a domain so that an id is unique
 * everywhere; it was the bare word `latchkey`, which every installation shared.
 */
export function messageIdFor(message: Pick<MailMessage, 'from' | 'messageId'>): string {
  // The From is checked at start (config.ts): `address` or `Name <address>`, so its domain ends the value.
  const domain = /@([^\s@<>]+)>?\s*$/.exec(message.from)?.[1] ?? 'latchkey.invalid';
  return `<${message.messageId}@${domain}>`;
}

/** What nodemailer is given for one message: the message, its Message-ID and the automated-mail headers. */
function mailOptions(message: MailMessage) {
  return { ...message, messageId: messageIdFor(message), headers: { ...AUTOMATED_MAIL_HEADERS } };
}

/** Links on the server's own origin, as logged by the file transport so a developer can click them. */
const LINK_PATTERN = /https?:\/\/[^\s<>"]+/g;

/** An open connection is closed after this long without a message (the sender is between polls). */
export const SMTP_IDLE_CLOSE_MS = 250;

/**
 * One connection, kept open while messages follow each other (the sender sends one at a time) and closed
 * once idle: a new connection (and TLS handshake) per message drained a backlog at 9 messages a second even
 * from a server on this machine (QA: 1 000 queued messages took 110 s; 5 s with the connection kept), and a
 * connection left open for good would hold the mail server's own shutdown.
 */
function createSmtpTransport(urlText: string): MailTransport {
  const url = new URL(urlText);
  // Options in the URL's query win over these (nodemailer merges the URL last).
  const options = { url: urlText, pool: true, maxConnections: 1, ...SMTP_TIMEOUTS, requireTLS: requiresTls(url) };
  let transporter: ReturnType<typeof nodemailer.createTransport> | null = null;
  let idle: NodeJS.Timeout | null = null;
  const closeNow = () => {
    if (idle) clearTimeout(idle);
    idle = null;
    transporter?.close();
    transporter = null;
  };
  return {
    async send(message, sendOptions = {}) {
      if (idle) clearTimeout(idle);
      idle = null;
      transporter ??= nodemailer.createTransport(options);
      try {
        await transporter.sendMail({ ...mailOptions(message), ...(sendOptions.signal ? { signal: sendOptions.signal } : {}) });
      } finally {
        idle = setTimeout(closeNow, SMTP_IDLE_CLOSE_MS);
        idle.unref();
      }
    },
    describe: () => `SMTP ${url.protocol}//${url.host}`,
    warning: () => null,
    close: closeNow,
  };
}

/**
 * The transport for LATCHKEY_SMTP_URL (nodemailer SMTP; TLS per the URL's scheme, certificates checked),
 * or the embedded default writing `.eml` files and logging subject, file and (outside production) links.
 */
export function createMailTransport(config: Exclude<MailTransportConfig, { kind: 'off' }>, log: (line: string) => void = console.log): MailTransport {
  if (config.kind === 'smtp') return createSmtpTransport(config.url);
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  let prepared = false;
  return {
    async send(message) {
      if (!prepared) {
        await mkdir(config.directory, { recursive: true, mode: 0o700 });
        prepared = true;
      }
      const info = await transporter.sendMail(mailOptions(message));
      const file = path.join(config.directory, `${message.date.toISOString().replace(/[:.]/g, '-')}-${message.messageId}.eml`);
      // Written whole then renamed: a reader never sees half a message, a crash leaves only a .tmp file.
      await writeFile(`${file}.tmp`, info.message as Buffer, { mode: 0o600 });
      await rename(`${file}.tmp`, file);
      // Links carry tokens (a reset link takes the account): logged only for a developer (ASVS V7.1.1).
      const links = config.logLinks ? [...new Set(message.text.match(LINK_PATTERN) ?? [])] : [];
      log(`[latchkey] mail to ${message.to}: “${message.subject}” → ${file}${links.map((link) => `\n  link: ${link}`).join('')}`);
    },
    describe: () => `files in ${config.directory} (set LATCHKEY_SMTP_URL to send real mail)`,
    warning: () =>
      config.logLinks
        ? null
        : `NODE_ENV=production but LATCHKEY_SMTP_URL is not set: no mail leaves this server. Each message is only written as an .eml file in ${config.directory} (links are not logged). Set LATCHKEY_SMTP_URL to deliver mail.`,
    close: () => transporter.close(),
  };
}
