import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import envPaths from 'env-paths';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_ARGON2,
  DEFAULT_RATE_LIMITS,
  DEFAULT_REQUEST_LIMITS,
  defaultConfigDirectories,
  loadConfig as loadConfigIn,
  parseNodeEnv,
  parseSupportContact,
  parseTrustProxy,
  type ConfigDirectories,
} from './config.js';

const directories: string[] = [];
async function tempDir(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'latchkey-config-'));
  directories.push(directory);
  return directory;
}
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

/** Temporary data and config directories: no test writes into the real user directories. */
async function tempDirectories(): Promise<ConfigDirectories> {
  const root = await tempDir();
  return { data: path.join(root, 'data'), config: path.join(root, 'config') };
}

/** loadConfig with temporary directories unless the test gives its own. */
async function loadConfig(env: NodeJS.ProcessEnv, directories?: ConfigDirectories) {
  return loadConfigIn(env, directories ?? (await tempDirectories()));
}

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
    expect(files.mail.from).toBe('"Latchkey" <no-reply@index.example.org>');
    // By default the mail comes from the index's own name, quoted whole (a comma in it is no second address).
    expect((await loadConfig({ ...base, LATCHKEY_RP_NAME: 'Example Index, "test"' })).mail.from).toBe(
      '"Example Index, \\"test\\"" <no-reply@index.example.org>',
    );
    const smtp = await loadConfig({ ...base, LATCHKEY_SMTP_URL: 'smtps://user:pw@smtp.example.org:465', LATCHKEY_MAIL_FROM: 'Index <robot@example.org>' });
    expect(smtp.mail).toMatchObject({ transport: { kind: 'smtp', url: 'smtps://user:pw@smtp.example.org:465' }, from: 'Index <robot@example.org>' });
    await expect(loadConfig({ ...base, LATCHKEY_SMTP_URL: 'http://smtp.example.org' })).rejects.toThrow(/must start with smtp:\/\/ .* or smtps:\/\//);
    await expect(loadConfig({ ...base, LATCHKEY_SMTP_URL: 'not a url' })).rejects.toThrow(ConfigError);
    await expect(loadConfig({ ...base, LATCHKEY_MAIL_FROM: 'robot@example.org\r\nBcc: all@example.org' })).rejects.toThrow(/LATCHKEY_MAIL_FROM/);
    await expect(loadConfig({ ...base, LATCHKEY_MAIL_FROM: 'nobody' })).rejects.toThrow(/LATCHKEY_MAIL_FROM/);
    // The index's name goes into every mail's subject: one line, or no mail (and no change that mails) could be made.
    expect((await loadConfig({ ...base, LATCHKEY_RP_NAME: '  Example Index ' })).rpName).toBe('Example Index');
    expect((await loadConfig(base)).rpName).toBe('Latchkey');
    for (const name of ['Latchkey\nBcc: x@evil.example', 'Tab\there', 'x'.repeat(101)]) {
      await expect(loadConfig({ ...base, LATCHKEY_RP_NAME: name }), JSON.stringify(name)).rejects.toThrow(/LATCHKEY_RP_NAME must be one line/);
    }
  });

  it('generates the secret key once, in the config directory (not beside the database), mode 0600, warns, and reuses it', async () => {
    const directory = await tempDir();
    const directories = await tempDirectories();
    const env = { DATABASE_URL: `sqlite:${directory}/db.sqlite` };
    const first = await loadConfig(env, directories);
    const second = await loadConfig(env, directories);
    expect(first.secretKey).toBe(second.secretKey);
    expect(Buffer.from(first.secretKey, 'base64url')).toHaveLength(32);
    const file = path.join(directories.config, 'latchkey-secret.key');
    expect((await readFile(file, 'utf8')).trim()).toBe(first.secretKey);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await expect(stat(path.join(directory, 'latchkey-secret.key'))).rejects.toMatchObject({ code: 'ENOENT' });
    // The warning says where the key is and what to set, never the key itself.
    expect(first.secretKeyWarning).toMatch(/^Generated a secret key and saved it in .*latchkey-secret\.key.*LATCHKEY_SECRET_KEY/);
    expect(second.secretKeyWarning).toMatch(/Using the generated secret key in .*LATCHKEY_SECRET_KEY/);
    for (const warning of [first.secretKeyWarning, second.secretKeyWarning]) expect(warning).not.toContain(first.secretKey);
    // Only the run that generated it says so (the admin CLI refuses such a key for a database with accounts).
    expect(first.secretKeyGenerated).toBe(true);
    expect(second.secretKeyGenerated).toBeUndefined();
  });

  it('no warning when LATCHKEY_SECRET_KEY is set, and no key file written', async () => {
    const directories = await tempDirectories();
    const config = await loadConfig({ DATABASE_URL: 'sqlite::memory:', LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64url') }, directories);
    expect(config.secretKeyWarning).toBeUndefined();
    await expect(stat(directories.config)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('moves a key file from beside the SQLite database (before issue 14) to the config directory, keeping its value', async () => {
    const directory = await tempDir();
    const directories = await tempDirectories();
    const old = randomBytes(32).toString('base64url');
    await writeFile(path.join(directory, 'latchkey-secret.key'), `${old}\n`, { mode: 0o600 });
    const config = await loadConfig({ DATABASE_URL: `sqlite:${directory}/db.sqlite` }, directories);
    // The same key (a new one would leave every stored TOTP secret undecryptable), now outside the data directory.
    expect(config.secretKey).toBe(old);
    expect((await readFile(path.join(directories.config, 'latchkey-secret.key'), 'utf8')).trim()).toBe(old);
    await expect(stat(path.join(directory, 'latchkey-secret.key'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(config.secretKeyWarning).toMatch(/moved from .* to .*LATCHKEY_SECRET_KEY/);
    expect(config.secretKeyWarning).not.toContain(old);
    expect((await loadConfig({ DATABASE_URL: `sqlite:${directory}/db.sqlite` }, directories)).secretKey).toBe(old);
  });

  it('looks for no old key file below a file: a DATABASE_URL there is left for the database to refuse, naming DATABASE_URL', async () => {
    // The look for an old key file beside the database used to stop the start with a bare
    // "ENOTDIR: not a directory, open '…/latchkey-secret.key'" naming no setting.
    const directory = await tempDir();
    await writeFile(path.join(directory, 'a-file'), '');
    const directories = await tempDirectories();
    const config = await loadConfig({ DATABASE_URL: `sqlite:${directory}/a-file/latchkey.db` }, directories);
    expect(config.secretKeyGenerated).toBe(true);
  });

  it('moves a key file from the data directory (PostgreSQL in development, before issue 14)', async () => {
    const directories = await tempDirectories();
    const old = randomBytes(32).toString('base64url');
    await mkdir(directories.data, { recursive: true });
    await writeFile(path.join(directories.data, 'latchkey-secret.key'), `${old}\n`, { mode: 0o600 });
    const config = await loadConfig({ DATABASE_URL: 'postgres://db/latchkey' }, directories);
    expect(config.secretKey).toBe(old);
    expect((await readFile(path.join(directories.config, 'latchkey-secret.key'), 'utf8')).trim()).toBe(old);
  });

  it('keeps using an old key file when the config directory already holds a different key (another installation), with a warning', async () => {
    const directory = await tempDir();
    const directories = await tempDirectories();
    const other = (await loadConfig({ DATABASE_URL: 'sqlite::memory:' }, directories)).secretKey;
    const old = randomBytes(32).toString('base64url');
    await writeFile(path.join(directory, 'latchkey-secret.key'), `${old}\n`, { mode: 0o600 });
    const config = await loadConfig({ DATABASE_URL: `sqlite:${directory}/db.sqlite` }, directories);
    expect(config.secretKey).toBe(old);
    expect(config.secretKeyWarning).toMatch(/sits beside the data/);
    // Neither file was touched.
    expect((await readFile(path.join(directory, 'latchkey-secret.key'), 'utf8')).trim()).toBe(old);
    expect((await readFile(path.join(directories.config, 'latchkey-secret.key'), 'utf8')).trim()).toBe(other);
  });

  it('refuses to generate a key inside the database directory (the database kept in the config directory)', async () => {
    const directories = await tempDirectories();
    await expect(loadConfig({ DATABASE_URL: `sqlite:${directories.config}/db.sqlite` }, directories)).rejects.toThrow(
      /inside the database's directory.*Set LATCHKEY_SECRET_KEY/,
    );
    // With the key set, the same layout is fine.
    await expect(
      loadConfig({ DATABASE_URL: `sqlite:${directories.config}/db.sqlite`, LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64url') }, directories),
    ).resolves.toMatchObject({ databaseUrl: `sqlite:${directories.config}/db.sqlite` });
  });

  it('the default directories are the user data and config directories', async () => {
    const config = await loadConfigIn({ LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64url') });
    expect(config.databaseUrl).toBe(`sqlite:${path.join(envPaths('latchkey', { suffix: '' }).data, 'latchkey.db')}`);
    expect(defaultConfigDirectories()).toEqual({ data: envPaths('latchkey', { suffix: '' }).data, config: envPaths('latchkey', { suffix: '' }).config });
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
    const anyPort = await loadConfig({ PORT: '0', LATCHKEY_ORIGIN: 'http://localhost:8081', LATCHKEY_SECRET_KEY: secret });
    expect(anyPort).toMatchObject({ port: 0, origin: 'http://localhost:8081' });
  });

  it('refuses PostgreSQL in production without a secret key, with a clear message', async () => {
    await expect(loadConfig({ DATABASE_URL: 'postgres://db/latchkey', NODE_ENV: 'production' })).rejects.toThrow(
      /LATCHKEY_SECRET_KEY is required in production with PostgreSQL/,
    );
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be a whole number/],
    // The origin was http://localhost:0: every link, cookie and WebAuthn check named a port nobody listens on.
    [{ PORT: '0' }, /PORT=0 \(any free port\) needs LATCHKEY_ORIGIN/],
    [{ DATABASE_URL: 'postgres://user:p@ss@[db/latchkey' }, /DATABASE_URL is not a valid URL/],
    [{ LATCHKEY_ORIGIN: 'https://index.example.org/latchkey' }, /must be an origin only/],
    [{ LATCHKEY_ORIGIN: 'https://index.example.org/?x=1' }, /must be an origin only/],
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

describe('NODE_ENV (only exact "production" switches on the production safeguards)', () => {
  it('refuses case variants and abbreviations of production, which used to run silently without the safeguards', async () => {
    const key = randomBytes(32).toString('base64url');
    for (const value of ['Production', 'PRODUCTION', ' production', 'production ', 'prod', 'Prod', 'prd']) {
      await expect(loadConfig({ LATCHKEY_SECRET_KEY: key, NODE_ENV: value }), JSON.stringify(value)).rejects.toThrow(ConfigError);
      await expect(loadConfig({ LATCHKEY_SECRET_KEY: key, NODE_ENV: value }), JSON.stringify(value)).rejects.toThrow(/write exactly NODE_ENV=production/);
    }
    expect((await loadConfig({ LATCHKEY_SECRET_KEY: key, NODE_ENV: 'production' })).production).toBe(true);
  });

  it('warns in one line for any other unknown value, and not for development, test or unset', async () => {
    const key = randomBytes(32).toString('base64url');
    for (const value of [undefined, '', 'development', 'test', 'production']) {
      expect((await loadConfig({ LATCHKEY_SECRET_KEY: key, NODE_ENV: value })).warnings, String(value)).toBeUndefined();
    }
    const staging = await loadConfig({ LATCHKEY_SECRET_KEY: key, NODE_ENV: 'staging' });
    expect(staging.production).toBe(false);
    expect(staging.warnings).toHaveLength(1);
    expect(staging.warnings?.[0]).toMatch(/^NODE_ENV="staging" is not development, test or production: running without the production safeguards/);
    expect(staging.warnings?.[0]).not.toContain('\n');
    const warnings: string[] = [];
    expect(parseNodeEnv('dev', warnings)).toBe(false);
    expect(warnings).toHaveLength(1);
  });
});

describe('LATCHKEY_SMTP_URL', () => {
  const key = randomBytes(32).toString('base64url');
  it('refuses a URL without a host (nodemailer then quietly connected to localhost)', async () => {
    for (const url of ['smtp://', 'smtps://', 'smtp://user:pw@', 'smtp:smtp.example.org', 'smtp://:587']) {
      await expect(loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_SMTP_URL: url }), url).rejects.toThrow(/LATCHKEY_SMTP_URL (has no host|is not a URL)/);
    }
  });

  it('takes requireTLS=true|false, name, authMethod and tls.servername; refuses other values and unknown parameters, listing the accepted', async () => {
    const accepted = 'smtp://user:pw@smtp.example.org:587?requireTLS=false&name=web1.example.org&authMethod=LOGIN&tls.servername=smtp.example.org';
    expect((await loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_SMTP_URL: accepted })).mail.transport).toEqual({ kind: 'smtp', url: accepted });
    for (const [query, message] of [
      ['requireTLS=maybe', /requireTLS must be true or false, not "maybe"/],
      ['requireTLS=', /requireTLS must be true or false/],
      ['requireTLS=1', /requireTLS must be true or false/],
      ['requireTls=true', /unknown parameter "requireTls"; the accepted ones are requireTLS=true\|false, name=…, authMethod=…, tls.servername=…/],
      ['ignoreTLS=true', /unknown parameter "ignoreTLS"/],
      ['tls.rejectUnauthorized=false', /unknown parameter "tls.rejectUnauthorized"/],
      ['requireTLS=true&requireTLS=false', /"requireTLS" more than once/],
      ['name=a%20b', /name must be a name/],
    ] as const) {
      await expect(loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_SMTP_URL: `smtp://smtp.example.org:587?${query}` }), query).rejects.toThrow(message);
    }
  });
});

describe('LATCHKEY_RP_ID and LATCHKEY_RP_NAME (what browsers accept for security keys)', () => {
  const key = randomBytes(32).toString('base64url');
  it('accepts the host or a parent domain; a single label only as the host itself', async () => {
    for (const [origin, rpId] of [
      ['https://index.example.org', 'index.example.org'],
      ['https://index.example.org', 'example.org'],
      ['https://a.b.example.co.uk', 'example.co.uk'],
      ['http://localhost:8080', 'localhost'],
      ['https://wiki', 'wiki'],
      ['https://xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ]) {
      expect((await loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_ORIGIN: origin, LATCHKEY_RP_ID: ` ${rpId} ` })).rpId).toBe(rpId);
    }
  });

  it.each([
    ['https://index.example', 'example', /is a top-level domain: browsers refuse it/],
    ['https://app.localhost', 'localhost', /is a top-level domain/],
    ['https://index.example.org', 'https://index.example.org', /must not hold a scheme, port, path/],
    ['https://index.example.org:8443', 'index.example.org:8443', /must not hold a scheme, port, path/],
    ['https://index.example.org', 'example.org.', /must not end with a dot/],
    ['https://index.example.org', 'Example.org', /must be written in lower case/],
    ['http://192.0.2.7:8080', '192.0.2.7', /is an IP address/],
    ['http://[::1]:8080', '::1', /must not hold a scheme, port, path or brackets|is an IP address/],
    ['https://index.example.org', 'exa_mple.org', /is not a valid domain name/],
    ['https://index.example.org', 'bücher.example', /is not a valid domain name/],
    ['https://index.example.org', 'other.org', /must be the origin's host/],
  ])('origin %s refuses LATCHKEY_RP_ID %j', async (origin, rpId, message) => {
    await expect(loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_ORIGIN: origin, LATCHKEY_RP_ID: rpId })).rejects.toThrow(ConfigError);
    await expect(loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_ORIGIN: origin, LATCHKEY_RP_ID: rpId })).rejects.toThrow(message);
  });

  it('an origin at an IP address with no RP ID set starts, with a warning that security keys cannot work there', async () => {
    const config = await loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_ORIGIN: 'http://192.0.2.7:8080' });
    expect(config.rpId).toBe('192.0.2.7');
    expect(config.warnings).toEqual([expect.stringMatching(/host 192\.0\.2\.7 is an IP address: browsers offer security keys only on a domain name/)]);
    expect((await loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_ORIGIN: 'http://[::1]:8080' })).warnings).toHaveLength(1);
    expect((await loadConfig({ LATCHKEY_SECRET_KEY: key })).warnings).toBeUndefined();
  });

  it('refuses a blank LATCHKEY_RP_NAME (set, but no name in prompts and subjects)', async () => {
    for (const name of ['', '   ', '\t']) {
      await expect(loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_RP_NAME: name }), JSON.stringify(name)).rejects.toThrow(/LATCHKEY_RP_NAME is set but blank/);
    }
    expect((await loadConfig({ LATCHKEY_SECRET_KEY: key })).rpName).toBe('Latchkey');
  });
});

describe('LATCHKEY_SUPPORT_CONTACT (where a locked-out user reaches the administrators)', () => {
  it('is unset by default; an address becomes a mailto: link, an https URL stays itself', async () => {
    const key = randomBytes(32).toString('base64url');
    expect((await loadConfig({ LATCHKEY_SECRET_KEY: key })).supportContact).toBeUndefined();
    expect((await loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_SUPPORT_CONTACT: '  ' })).supportContact).toBeUndefined();
    expect((await loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_SUPPORT_CONTACT: ' security@index.example.org ' })).supportContact).toEqual({
      href: 'mailto:security@index.example.org',
      label: 'security@index.example.org',
    });
    expect(parseSupportContact('mailto:Admins+Lockout@Example.org')).toEqual({
      href: 'mailto:Admins%2BLockout@Example.org',
      label: 'Admins+Lockout@Example.org',
    });
    // Legal in an address, not as themselves in a mailto: URL (RFC 6068): the link must still reach that address.
    expect(parseSupportContact('help?desk#1@example.org')?.href).toBe('mailto:help%3Fdesk%231@example.org');
    expect(parseSupportContact('https://index.example.org/help/account-recovery')).toEqual({
      href: 'https://index.example.org/help/account-recovery',
      label: 'https://index.example.org/help/account-recovery',
    });
  });

  it('refuses anything else at start, naming the setting', async () => {
    const key = randomBytes(32).toString('base64url');
    for (const value of [
      'admins',
      'Admins <admins@example.org>',
      'a@example.org, b@example.org',
      'admins@example.org?bcc=all@example.org',
      'mailto:admins@example.org?subject=hi',
      'admins@localhost',
      'jörg@example.org',
      'admins@example.org\nBcc: x@example.org',
      'http://index.example.org/help',
      'https://user:pw@index.example.org/help',
      'https://',
      'javascript:alert(1)',
      'ftp://index.example.org/help',
      `https://index.example.org/${'a'.repeat(300)}`,
    ]) {
      await expect(loadConfig({ LATCHKEY_SECRET_KEY: key, LATCHKEY_SUPPORT_CONTACT: value }), value).rejects.toThrow(/^LATCHKEY_SUPPORT_CONTACT /);
      expect(() => parseSupportContact(value), value).toThrow(ConfigError);
    }
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
    // Lists Express cannot compile: before, start-up failed later with "invalid IP address: foo" and no variable named.
    for (const list of ['foo', '10.0.0.0/99', 'loopback, 300.1.1.1']) {
      expect(() => parseTrustProxy(list), list).toThrow(ConfigError);
      expect(() => parseTrustProxy(list), list).toThrow(/LATCHKEY_TRUST_PROXY must be/);
    }
    expect(parseTrustProxy('loopback, linklocal, uniquelocal, 192.168.0.0/255.255.0.0, fd00::/8')).toBe(
      'loopback, linklocal, uniquelocal, 192.168.0.0/255.255.0.0, fd00::/8',
    );
  });
});
