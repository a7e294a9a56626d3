import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { MailTransportConfig } from '../../config.js';

/** One fully addressed message, as a transport delivers it. */
export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Stable per outbox row, so a receiving system can drop a duplicate delivered after a crash. */
  messageId: string;
  date: Date;
}

export interface MailTransport {
  /** Deliver or throw (the sender retries). Resolving means the message was accepted. */
  send(message: MailMessage): Promise<void>;
  /** For the start-up log: where mail goes (never credentials). */
  describe(): string;
  /** For the start-up log, as a warning: why this configuration is wrong for production, or null. */
  warning(): string | null;
  close(): void;
}

/** Below the sender's lease (2 min by default): a hung server never makes two senders deliver one message. */
const SMTP_TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000 };

/** Links on the server's own origin, as logged by the file transport so a developer can click them. */
const LINK_PATTERN = /https?:\/\/[^\s<>"]+/g;

/**
 * The transport for LATCHKEY_SMTP_URL (nodemailer SMTP; TLS per the URL's scheme, certificates checked),
 * or the embedded default writing `.eml` files and logging subject, file and (outside production) links.
 */
export function createMailTransport(config: Exclude<MailTransportConfig, { kind: 'off' }>, log: (line: string) => void = console.log): MailTransport {
  if (config.kind === 'smtp') {
    const transporter = nodemailer.createTransport({ url: config.url, ...SMTP_TIMEOUTS });
    const url = new URL(config.url);
    return {
      async send(message) {
        await transporter.sendMail({ ...message, messageId: `<${message.messageId}@latchkey>` });
      },
      describe: () => `SMTP ${url.protocol}//${url.host}`,
      warning: () => null,
      close: () => transporter.close(),
    };
  }
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  let prepared = false;
  return {
    async send(message) {
      if (!prepared) {
        await mkdir(config.directory, { recursive: true, mode: 0o700 });
        prepared = true;
      }
      const info = await transporter.sendMail({ ...message, messageId: `<${message.messageId}@latchkey>` });
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
