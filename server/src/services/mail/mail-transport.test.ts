import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeMail } from './compose-mail.js';
import { createMailTransport } from './mail-transport.js';

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
    expect(raw).toMatch(/^Message-ID: <m-1@latchkey>$/m);
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
