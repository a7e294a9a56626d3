import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeMail } from './compose-mail.js';
import { createMailTransport, requiresTls } from './mail-transport.js';

let directory: string | null = null;
afterEach(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
  directory = null;
});

describe('createMailTransport, files (the embedded default)', () => {
  it('writes one .eml file per message (mode 0600, both parts) and logs recipient, subject and links only', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'latchkey-mail-'));
    const lines: string[] = [];
    const transport = createMailTransport({ kind: 'files', directory: path.join(directory, 'mail'), logLinks: true }, (line) => lines.push(line));
    const body = composeMail({
      subject: 'Latchkey: verify your e-mail address',
      greeting: 'Hello <alice>,',
      paragraphs: ['Please confirm.'],
      action: { label: 'Verify this address', url: 'http://localhost:8080/account/verify-email/?token=abc.def' },
    });
    // Preact escapes every value in the HTML part.
    expect(body.html).toContain('Hello &lt;alice>,');
    await transport.send({ from: 'Latchkey <no-reply@localhost>', to: 'alice@example.org', messageId: 'm-1', date: new Date(0), ...body });
    const [file] = await readdir(path.join(directory, 'mail'));
    expect(file).toMatch(/^1970-01-01T00-00-00-000Z-m-1\.eml$/);
    const full = path.join(directory, 'mail', file!);
    expect((await stat(full)).mode & 0o777).toBe(0o600);
    const raw = await readFile(full, 'utf8');
    // On the From address's domain (RFC 5322 3.6.4: the right side names the host, so the id is unique everywhere).
    expect(raw).toMatch(/^Message-ID: <m-1@localhost>$/m);
    expectAutomatedHeaders(raw);
    expect(raw).toContain('Content-Type: text/plain');
    expect(raw).toContain('Content-Type: text/html');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('mail to alice@example.org: “Latchkey: verify your e-mail address”');
    expect(lines[0]).toContain('link: http://localhost:8080/account/verify-email/?token=abc.def');
    expect(lines[0]).not.toContain('Please confirm');
    expect(transport.warning()).toBeNull();
    transport.close();
  });

  it('in production (logLinks off) logs the .eml path but never a link or token, and warns that no mail leaves', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'latchkey-mail-'));
    const lines: string[] = [];
    const mailDirectory = path.join(directory, 'mail');
    const transport = createMailTransport({ kind: 'files', directory: mailDirectory, logLinks: false }, (line) => lines.push(line));
    const body = composeMail({
      subject: 'Latchkey: reset your password',
      greeting: 'Hello alice,',
      paragraphs: ['Someone asked to reset your password.'],
      action: { label: 'Choose a new password', url: 'https://index.example.org/account/reset-password/?token=secret-token.mac' },
    });
    await transport.send({ from: 'Latchkey <no-reply@index.example.org>', to: 'alice@example.org', messageId: 'm-2', date: new Date(0), ...body });
    const [file] = await readdir(mailDirectory);
    // The message itself is intact on disk (the operator can still read it there) …
    expect(await readFile(path.join(mailDirectory, file!), 'utf8')).toContain('secret-token.mac');
    // … but the log names the file only.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`→ ${path.join(mailDirectory, file!)}`);
    expect(lines[0]).not.toContain('secret-token');
    expect(lines[0]).not.toContain('http');
    expect(lines[0]).not.toContain('link:');
    expect(transport.warning()).toContain('LATCHKEY_SMTP_URL is not set');
    expect(transport.warning()).toContain(mailDirectory);
    transport.close();
  });

  it('composeMail refuses a subject with a line break (header injection)', () => {
    expect(() => composeMail({ subject: 'a\r\nBcc: x@example.org', greeting: 'Hi', paragraphs: [] })).toThrow(TypeError);
  });
});

/**
 * Automated mail says so (RFC 3834 section 5; Exchange reads MS-OXCMAIL's X-Auto-Response-Suppress): an
 * out-of-office or vacation reply to a notice would go to the no-reply sender, and could quote the message,
 * reset link included. No List-Unsubscribe (RFC 8058): a security notice must not be something one opts out of.
 */
function expectAutomatedHeaders(raw: string) {
  const headers = raw.slice(0, raw.search(/\r?\n\r?\n/));
  expect(headers).toMatch(/^Auto-Submitted: auto-generated\r?$/m);
  expect(headers).toMatch(/^X-Auto-Response-Suppress: All\r?$/m);
  expect(headers).not.toMatch(/^List-Unsubscribe/im);
}

/**
 * A plain-text SMTP server that offers AUTH but not STARTTLS (what a man in the middle shows after stripping
 * the offer), and records every command line it is sent.
 */
async function strippedSmtp(
  host: string,
): Promise<{ port: number; lines: string[]; data: string[]; connections: () => number; open: () => number; server: Server }> {
  const lines: string[] = [];
  /** The lines of every message sent (DATA), headers and body. */
  const data: string[] = [];
  let connections = 0;
  let open = 0;
  const server = createServer((socket) => {
    connections++;
    open++;
    socket.on('close', () => open--);
    let inData = false;
    socket.write('220 relay ESMTP\r\n');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            socket.write('250 queued\r\n');
          } else data.push(line);
          continue;
        }
        lines.push(line);
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') socket.write('250-relay\r\n250 AUTH PLAIN LOGIN\r\n');
        else if (verb === 'AUTH') socket.write('235 ok\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write(verb === 'STARTTLS' ? '502 not offered\r\n' : '250 ok\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as AddressInfo).port, lines, data, connections: () => connections, open: () => open, server };
}

/** A message as the sender hands it to the transport. */
function smtpMessage(messageId: string) {
  return { from: 'Latchkey <no-reply@index.example.org>', to: 'alice@example.org', subject: 's', text: 't', html: '<p>t</p>', messageId, date: new Date(0) };
}

describe('createMailTransport, SMTP', () => {
  const message = smtpMessage('m-3');

  it('requires TLS before sending credentials to a remote smtp:// server (unless the URL opts out)', () => {
    expect(requiresTls(new URL('smtp://user:secret@smtp.example.org:587'))).toBe(true);
    expect(requiresTls(new URL('smtp://user@smtp.example.org:587'))).toBe(true);
    expect(requiresTls(new URL('smtp://smtp.example.org:25'))).toBe(false);
    expect(requiresTls(new URL('smtps://user:secret@smtp.example.org:465'))).toBe(false);
    for (const host of ['localhost', '127.0.0.1', '[::1]']) expect(requiresTls(new URL(`smtp://user:secret@${host}:25`))).toBe(false);
  });

  // 127.0.0.2 is loopback on Linux but not one of the names the transport trusts: it stands for a remote relay.
  it.skipIf(process.platform !== 'linux')('never sends the login in clear when the STARTTLS offer is stripped', async () => {
    const relay = await strippedSmtp('127.0.0.2');
    try {
      const transport = createMailTransport({ kind: 'smtp', url: `smtp://user:s3cret-pass@127.0.0.2:${relay.port}` });
      await expect(transport.send(message)).rejects.toThrow(/STARTTLS/);
      transport.close();
      expect(relay.lines.some((line) => /^AUTH/i.test(line))).toBe(false);
      expect(relay.lines.join('\n')).not.toContain(Buffer.from('s3cret-pass').toString('base64').slice(0, 8));

      // An operator who accepts the risk says so in the URL.
      const optedOut = createMailTransport({ kind: 'smtp', url: `smtp://user:s3cret-pass@127.0.0.2:${relay.port}?requireTLS=false` });
      await optedOut.send(message);
      optedOut.close();
      expect(relay.lines.some((line) => /^AUTH/i.test(line))).toBe(true);
    } finally {
      await new Promise((resolve) => relay.server.close(resolve));
    }
  });
});

describe('createMailTransport, SMTP headers', () => {
  it('marks every message automated, with a Message-ID on the sender’s domain', async () => {
    const relay = await strippedSmtp('127.0.0.1');
    const transport = createMailTransport({ kind: 'smtp', url: `smtp://127.0.0.1:${relay.port}` });
    try {
      await transport.send(smtpMessage('m-5'));
      const raw = relay.data.join('\r\n');
      expect(raw).toMatch(/^Message-ID: <m-5@index\.example\.org>\r?$/m);
      expectAutomatedHeaders(raw);
    } finally {
      transport.close();
      await new Promise((resolve) => relay.server.close(resolve));
    }
  });
});

describe('createMailTransport, SMTP connections', () => {
  const message = smtpMessage('m-4');

  it('keeps one connection open for a run of messages (one per message drained a backlog at 9 a second), closed once idle', async () => {
    const relay = await strippedSmtp('127.0.0.1');
    const transport = createMailTransport({ kind: 'smtp', url: `smtp://127.0.0.1:${relay.port}` });
    try {
      for (let i = 0; i < 5; i++) await transport.send({ ...message, messageId: `m-4-${i}` });
      expect(relay.lines.filter((line) => line === 'DATA')).toHaveLength(5);
      expect(relay.connections()).toBe(1);
      // … and closes it once idle: an open connection would hold the mail server's own shutdown.
      await expect.poll(() => relay.open(), { timeout: 7_000 }).toBe(0);
    } finally {
      transport.close();
      await new Promise((resolve) => relay.server.close(resolve));
    }
  });

  it("an attempt aborted by the sender's deadline fails at once and closes its connection", async () => {
    // Accepts the connection and never greets: the per-step timeouts alone would wait 15 s.
    let closed = false;
    const silent = createServer((socket) => {
      socket.on('close', () => (closed = true));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const transport = createMailTransport({ kind: 'smtp', url: `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}` });
    try {
      const started = Date.now();
      await expect(transport.send(message, { signal: AbortSignal.timeout(200) })).rejects.toMatchObject({ name: 'AbortError' });
      expect(Date.now() - started).toBeLessThan(2_000);
      await expect.poll(() => closed, { timeout: 7_000 }).toBe(true);
    } finally {
      transport.close();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
