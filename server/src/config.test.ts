import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import envPaths from 'env-paths';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_ARGON2, DEFAULT_RATE_LIMITS, DEFAULT_REQUEST_LIMITS, loadConfig, parseTrustProxy } from './config.js';

const directories: string[] = [];
async function tempDir(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'latchkey-config-'));
  directories.push(directory);
  return directory;
}
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

describe('loadConfig', () => {
  it('defaults: port 8080, origin http://localhost:8080, rpId localhost, production argon2 and limits', async () => {
    const directory = await tempDir();
    const config = await loadConfig({ DATABASE_URL: `sqlite:${directory}/db.sqlite` });
    expect(config).toMatchObject({ port: 8080, origin: 'http://localhost:8080', rpId: 'localhost', production: false, host: '127.0.0.1' });
    expect(config.argon2).toEqual(DEFAULT_ARGON2);
    expect(config.argon2.memoryCost).toBeGreaterThanOrEqual(19 * 1024);
    expect(config.rateLimits).toEqual(DEFAULT_RATE_LIMITS);
    expect(config.requestLimits).toEqual(DEFAULT_REQUEST_LIMITS);
    expect(config.trustProxy).toBeUndefined();
  });

  it('LATCHKEY_REGISTRATIONS_PER_HOUR raises the global registration ceiling, and must be a whole number', async () => {
    const key = randomBytes(32).toString('base64url');
    const config = await loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_REGISTRATIONS_PER_HOUR: '2000' });
    expect(config.requestLimits.register.everyone).toEqual({ max: 2000, windowMs: 3_600_000 });
    expect(config.requestLimits.register.perAddress).toEqual(DEFAULT_REQUEST_LIMITS.register.perAddress);
    await expect(loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_REGISTRATIONS_PER_HOUR: 'lots' })).rejects.toThrow(ConfigError);
  });

  it('mail: .eml files beside the database by default; LATCHKEY_SMTP_URL (smtp/smtps) and LATCHKEY_MAIL_FROM checked', async () => {
    const directory = await tempDir();
    const key = randomBytes(32).toString('base64url');
    const base = { LATCHKEY_SECRET_KEY: key, DATABASE_URL: `sqlite:${directory}/db.sqlite`, LATCHKEY_ORIGIN: 'https://index.example.org' };
    const files = await loadConfig(base);
    expect(files.mail.transport).toEqual({ kind: 'files', directory: path.join(directory, 'mail'), logLinks: true });
    // In production the token-bearing links are never logged (ASVS V7.1.1); the transport warns instead.
    const production = await loadConfig({ ...base, NODE_ENV: 'production' });
    expect(production.mail.transport).toEqual({ kind: 'files', directory: path.join(directory, 'mail'), logLinks: false });
    expect(files.mail.from).toBe('Latchkey <no-reply@index.example.org>');
    const smtp = await loadConfig({ ...base, LATCHKEY_SMTP_URL: 'smtps://user:pw@smtp.example.org:465', LATCHKEY_MAIL_FROM: 'Index <robot@example.org>' });
    expect(smtp.mail).toMatchObject({ transport: { kind: 'smtp', url: 'smtps://user:pw@smtp.example.org:465' }, from: 'Index <robot@example.org>' });
    await expect(loadConfig({ ...base, LATCHKEY_SMTP_URL: 'http://smtp.example.org' })).rejects.toThrow(/must start with smtp:\/\/ .* or smtps:\/\//);
    await expect(loadConfig({ ...base, LATCHKEY_SMTP_URL: 'not a url' })).rejects.toThrow(ConfigError);
    await expect(loadConfig({ ...base, LATCHKEY_MAIL_FROM: 'robot@example.org\r\nBcc: all@example.org' })).rejects.toThrow(/LATCHKEY_MAIL_FROM/);
    await expect(loadConfig({ ...base, LATCHKEY_MAIL_FROM: 'nobody' })).rejects.toThrow(/LATCHKEY_MAIL_FROM/);
  });

  it('defaults the database to a file in the user data directory', async () => {
    // A key is given so nothing is written into the real data directory.
    const config = await loadConfig({ LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64url') });
    expect(config.databaseUrl).toBe(`sqlite:${path.join(envPaths('latchkey', { suffix: '' }).data, 'latchkey.db')}`);
  });

  it('generates the secret key once, next to the SQLite file, mode 0600, and reuses it', async () => {
    const directory = await tempDir();
    const env = { DATABASE_URL: `sqlite:${directory}/db.sqlite` };
    const first = await loadConfig(env);
    const second = await loadConfig(env);
    expect(first.secretKey).toBe(second.secretKey);
    expect(Buffer.from(first.secretKey, 'base64url')).toHaveLength(32);
    const file = path.join(directory, 'latchkey-secret.key');
    expect((await readFile(file, 'utf8')).trim()).toBe(first.secretKey);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('takes PORT, LATCHKEY_ORIGIN, LATCHKEY_RP_ID and LATCHKEY_SECRET_KEY', async () => {
    const secret = randomBytes(32).toString('base64url');
    const config = await loadConfig({
      PORT: '9000',
      DATABASE_URL: 'postgres://u:p@db.internal:5432/latchkey',
      LATCHKEY_ORIGIN: 'https://pkg.example.org/',
      LATCHKEY_RP_ID: 'example.org',
      LATCHKEY_SECRET_KEY: secret,
      NODE_ENV: 'production',
    });
    expect(config).toMatchObject({ port: 9000, origin: 'https://pkg.example.org', rpId: 'example.org', secretKey: secret, production: true });
  });

  it('refuses PostgreSQL in production without a secret key, with a clear message', async () => {
    await expect(loadConfig({ DATABASE_URL: 'postgres://db/latchkey', NODE_ENV: 'production' })).rejects.toThrow(
      /LATCHKEY_SECRET_KEY is required in production with PostgreSQL/,
    );
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be a whole number/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be/],
    [{ LATCHKEY_ORIGIN: 'not a url' }, /is not a URL/],
    [{ LATCHKEY_ORIGIN: 'ftp://x' }, /http:\/\/ or https:\/\//],
    [{ LATCHKEY_ORIGIN: 'https://a.example.org', LATCHKEY_RP_ID: 'other.org' }, /must be the origin's host/],
    [{ LATCHKEY_SECRET_KEY: 'short' }, /at least 32 bytes/],
    [{ LATCHKEY_SECRET_KEY: 'not base64url!!'.repeat(4) }, /base64url/],
  ])('refuses %j', async (env, message) => {
    const directory = await tempDir();
    await expect(loadConfig({ DATABASE_URL: `sqlite:${directory}/db.sqlite`, ...env })).rejects.toThrow(ConfigError);
    await expect(loadConfig({ DATABASE_URL: `sqlite:${directory}/db.sqlite`, ...env })).rejects.toThrow(message);
  });
});

describe('parseTrustProxy (LATCHKEY_TRUST_PROXY)', () => {
  it('is a hop count; "true" means one proxy (it used to trust every hop, letting clients pick their address)', () => {
    expect(parseTrustProxy(undefined)).toBeUndefined();
    expect(parseTrustProxy('')).toBeUndefined();
    expect(parseTrustProxy('false')).toBeUndefined();
    expect(parseTrustProxy('0')).toBeUndefined();
    expect(parseTrustProxy('1')).toBe(1);
    expect(parseTrustProxy(' 2 ')).toBe(2);
    expect(parseTrustProxy('true')).toBe(1);
  });

  it('keeps Express address lists, and refuses what is neither', () => {
    expect(parseTrustProxy('loopback, 10.0.0.0/8')).toBe('loopback, 10.0.0.0/8');
    expect(() => parseTrustProxy('-1')).toThrow(ConfigError);
    expect(() => parseTrustProxy('1.5')).toThrow(ConfigError);
  });
});
