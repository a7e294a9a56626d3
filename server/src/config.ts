import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import envPaths from 'env-paths';

/** One limit: at most `max` failures inside a fixed window of `windowMs`. */
export interface RateLimitRule {
  max: number;
  windowMs: number;
}

/**
 * Failed-attempt limits, kept in the database so they hold across server instances (ASVS V2.2.1,
 * NIST SP 800-63B 5.2.2). Benchmarks raise them; the semantics never change.
 */
export interface RateLimitConfig {
  passwordPerAccount: RateLimitRule;
  passwordPerIp: RateLimitRule;
  secondFactorPerAccount: RateLimitRule;
  secondFactorPerIp: RateLimitRule;
  /**
   * Consecutive second-factor failures per account, reset only by a successful login or an admin
   * 2FA reset (NIST SP 800-63B 5.2.2: no more than 100 consecutive failed attempts). Only someone
   * who has the password reaches the second factor, so this lock cannot be triggered by strangers.
   */
  secondFactorConsecutivePerAccount: RateLimitRule;
}

/** argon2id cost. Production uses at least OWASP's m=19 MiB, t=2, p=1 (ASVS V2.4.4). */
export interface Argon2Cost {
  /** KiB */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** Where the mail senders deliver (services/mail). */
export type MailTransportConfig =
  /** nodemailer to LATCHKEY_SMTP_URL (`smtp://` or `smtps://`, credentials in the URL). */
  | { kind: 'smtp'; url: string }
  /** The embedded default: each message becomes an `.eml` file in `directory`, its subject and links logged. */
  | { kind: 'files'; directory: string }
  /** No sender in this process (tests that read the outbox themselves); messages stay queued. */
  | { kind: 'off' };

/** Outbox delivery (services/mail/mail-sender.ts). */
export interface MailConfig {
  /** LATCHKEY_MAIL_FROM, the From header, e.g. `Latchkey <no-reply@index.example.org>`. */
  from: string;
  transport: MailTransportConfig;
  /** How often an idle sender looks for due messages. */
  pollMs: number;
  /** How long a claimed message is held by one sender before another may take it over (longer than any SMTP timeout). */
  leaseMs: number;
  /** First retry delay; doubles per failed attempt up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Attempts before a message is given up on (recorded as failed, logged). */
  maxAttempts: number;
}

export interface Config {
  port: number;
  /** `sqlite:PATH` or `postgres://…` (optionally `?schema=NAME`). */
  databaseUrl: string;
  /** Public origin, e.g. `https://index.example.org`; decides cookie prefixes, `Secure` and HSTS. */
  origin: string;
  /** WebAuthn relying-party id (a registrable domain suffix of the origin's host). */
  rpId: string;
  rpName: string;
  /** LATCHKEY_SECRET_KEY: base64url, at least 32 bytes of entropy. Every server key is derived from it (HKDF). */
  secretKey: string;
  production: boolean;
  rateLimits: RateLimitConfig;
  argon2: Argon2Cost;
  /**
   * Express `trust proxy` setting (LATCHKEY_TRUST_PROXY), so per-IP limits see the client's address
   * behind a reverse proxy. Unset: the socket address is used.
   */
  trustProxy?: boolean | number | string;
  /** Interface to listen on (HOST); default 127.0.0.1. */
  host?: string;
  mail: MailConfig;
}

const MINUTE = 60_000;

/** Defaults; the bound they give on guessing a second factor is explained in the README (The account server → How login works). */
export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  passwordPerAccount: { max: 10, windowMs: 15 * MINUTE },
  passwordPerIp: { max: 50, windowMs: 15 * MINUTE },
  secondFactorPerAccount: { max: 5, windowMs: 15 * MINUTE },
  secondFactorPerIp: { max: 30, windowMs: 15 * MINUTE },
  secondFactorConsecutivePerAccount: { max: 100, windowMs: 365 * 24 * 60 * MINUTE },
};

/** Delivery defaults: retries for about four hours (20 attempts, backoff 5 s doubling to 15 min). */
export const DEFAULT_MAIL_DELIVERY: Omit<MailConfig, 'from' | 'transport'> = {
  pollMs: 1_000,
  leaseMs: 2 * MINUTE,
  backoffMs: 5_000,
  maxBackoffMs: 15 * MINUTE,
  maxAttempts: 20,
};

/** OWASP Password Storage Cheat Sheet minimum for argon2id: m=19 MiB, t=2, p=1. */
export const DEFAULT_ARGON2: Argon2Cost = { memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 };

/** Thrown for configuration that cannot work; the message says what to set. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Minimum decoded length of LATCHKEY_SECRET_KEY. */
const MIN_SECRET_BYTES = 32;
const SECRET_FILE_NAME = 'latchkey-secret.key';

/**
 * Read the configuration from environment variables (see the README, Configuration, for the table).
 * When LATCHKEY_SECRET_KEY is unset a key is generated once and persisted (mode 0600) next to the
 * SQLite database, or in the user's data directory; with PostgreSQL in production it must be set,
 * because several instances must share it.
 */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const production = env.NODE_ENV === 'production';
  const port = parsePort(env.PORT);
  const dataDir = envPaths('latchkey', { suffix: '' }).data;
  const databaseUrl = env.DATABASE_URL?.trim() || `sqlite:${path.join(dataDir, 'latchkey.db')}`;
  if (!databaseUrl.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be "sqlite:PATH" or "postgres://…".');
  }
  const origin = parseOrigin(env.LATCHKEY_ORIGIN?.trim() || `http://localhost:${port}`);
  const rpId = env.LATCHKEY_RP_ID?.trim() || new URL(origin).hostname;
  const host = new URL(origin).hostname;
  if (host !== rpId && !host.endsWith(`.${rpId}`)) {
    throw new ConfigError(`LATCHKEY_RP_ID "${rpId}" must be the origin's host "${host}" or a parent domain of it.`);
  }
  const secretKey = await resolveSecretKey(env.LATCHKEY_SECRET_KEY, databaseUrl, dataDir, production);
  const config: Config = {
    port,
    databaseUrl,
    origin,
    rpId,
    rpName: env.LATCHKEY_RP_NAME?.trim() || 'Latchkey',
    secretKey,
    production,
    rateLimits: DEFAULT_RATE_LIMITS,
    argon2: DEFAULT_ARGON2,
    host: env.HOST?.trim() || '127.0.0.1',
    mail: {
      ...DEFAULT_MAIL_DELIVERY,
      from: parseMailFrom(env.LATCHKEY_MAIL_FROM, origin),
      transport: parseMailTransport(env.LATCHKEY_SMTP_URL, databaseUrl, dataDir),
    },
  };
  const trustProxy = parseTrustProxy(env.LATCHKEY_TRUST_PROXY);
  if (trustProxy !== undefined) config.trustProxy = trustProxy;
  return config;
}

/**
 * Configuration for tests: a fixed origin, a fresh random secret, an in-memory-cheap but real
 * argon2id (same algorithm and code path, lower memory/time cost only) and the production limits.
 */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    databaseUrl: 'sqlite::memory:',
    origin: 'http://localhost',
    rpId: 'localhost',
    rpName: 'Latchkey (test)',
    secretKey: randomBytes(32).toString('base64url'),
    production: false,
    rateLimits: DEFAULT_RATE_LIMITS,
    // Cheaper cost only: argon2id stays argon2id, verification code path is identical.
    argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    host: '127.0.0.1',
    mail: { ...DEFAULT_MAIL_DELIVERY, from: 'Latchkey (test) <no-reply@localhost>', transport: { kind: 'off' } },
    ...overrides,
  };
}

/** Decode and check a base64url secret key; throws {@link ConfigError} when too short or malformed. */
export function decodeSecretKey(secretKey: string): Buffer {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(secretKey)) {
    throw new ConfigError('LATCHKEY_SECRET_KEY must be base64url (A–Z, a–z, 0–9, "-", "_").');
  }
  const bytes = Buffer.from(secretKey, 'base64url');
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new ConfigError(
      `LATCHKEY_SECRET_KEY must hold at least ${MIN_SECRET_BYTES} bytes (${Math.ceil((MIN_SECRET_BYTES * 4) / 3)} base64url characters); ` +
        'generate one with: node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64url\'))"',
    );
  }
  return bytes;
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 8080;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535, not "${value}".`);
  }
  return port;
}

function parseOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`LATCHKEY_ORIGIN "${value}" is not a URL; use e.g. https://index.example.org`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('LATCHKEY_ORIGIN must start with http:// or https://.');
  }
  return url.origin;
}

function parseMailFrom(value: string | undefined, origin: string): string {
  const text = value?.trim();
  if (!text) return `Latchkey <no-reply@${new URL(origin).hostname}>`;
  // A bare address or `Name <address>`; a line break here would let the value inject headers.
  if (/[\r\n]/.test(text) || !/^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(text)) {
    throw new ConfigError(`LATCHKEY_MAIL_FROM "${text}" must be an address, e.g. no-reply@index.example.org or "Latchkey <no-reply@index.example.org>".`);
  }
  return text;
}

/**
 * LATCHKEY_SMTP_URL set: SMTP through nodemailer. Unset: `.eml` files in a `mail` folder beside the
 * SQLite database (or in the user's data directory), so a fresh `npm start` needs no mail server.
 */
function parseMailTransport(value: string | undefined, databaseUrl: string, dataDir: string): MailTransportConfig {
  const text = value?.trim();
  if (text) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError('LATCHKEY_SMTP_URL is not a URL; use e.g. smtps://user:password@smtp.example.org:465');
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
      throw new ConfigError('LATCHKEY_SMTP_URL must start with smtp:// (STARTTLS when offered) or smtps:// (TLS from the start).');
    }
    return { kind: 'smtp', url: text };
  }
  const sqlitePath = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : null;
  const base = sqlitePath && sqlitePath !== ':memory:' ? path.dirname(path.resolve(sqlitePath)) : dataDir;
  return { kind: 'files', directory: path.join(base, 'mail') };
}

function parseTrustProxy(value: string | undefined): boolean | number | string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^\d+$/.test(text)) return Number(text);
  return text;
}

async function resolveSecretKey(
  fromEnv: string | undefined,
  databaseUrl: string,
  dataDir: string,
  production: boolean,
): Promise<string> {
  const given = fromEnv?.trim();
  if (given) {
    decodeSecretKey(given);
    return given;
  }
  const sqlitePath = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : null;
  if (sqlitePath === null && production) {
    throw new ConfigError(
      'LATCHKEY_SECRET_KEY is required in production with PostgreSQL: every instance must share it, ' +
        'and it must not live only on one machine. Set it to 32+ random bytes, base64url-encoded.',
    );
  }
  const directory = sqlitePath && sqlitePath !== ':memory:' ? path.dirname(path.resolve(sqlitePath)) : dataDir;
  return readOrCreateSecretFile(path.join(directory, SECRET_FILE_NAME));
}

async function readOrCreateSecretFile(file: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const fresh = randomBytes(32).toString('base64url');
  try {
    // `wx` fails if another process created it first; then we read theirs (two instances, one key).
    await writeFile(file, `${fresh}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return fresh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stored = (await readFile(file, 'utf8')).trim();
  try {
    decodeSecretKey(stored);
  } catch (error) {
    throw new ConfigError(`The secret key file ${file} is damaged: ${(error as Error).message}`);
  }
  return stored;
}
