import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import envPaths from 'env-paths';
import express from 'express';

/** One limit: at most `max` failures inside a fixed window of `windowMs`. */
export interface RateLimitRule {
  max: number;
  windowMs: number;
}

/**
 * Failed-attempt limits, kept in the database so they hold across server instances (ASVS V2.2.1,
 * NIST SP 800-63B 5.2.2). Benchmarks raise them; the semantics never change. How they combine, and
 * the guessing bound they give, is in docs/security.md.
 */
export interface RateLimitConfig {
  /** Wrong passwords for one account from one place: one address block (IPv4 address, IPv6 /64) or one remembered device. */
  passwordPerAccount: RateLimitRule;
  /**
   * Wrong passwords for one account from all places together. When it is spent, only places that
   * already failed for the account in the last day are refused, so strangers cannot lock the owner out
   * (issue 14 point 2); each new address still gets its one try — the price of that promise.
   */
  passwordPerAccountAllPlaces: RateLimitRule;
  /** Wrong passwords from one address block, whatever the account (password spraying). */
  passwordPerIp: RateLimitRule;
  /** Wrong second factors (any method) for one account: reached only with the password. */
  secondFactorPerAccount: RateLimitRule;
  secondFactorPerIp: RateLimitRule;
  /**
   * Wrong TOTP codes per account in any rolling window of this length (a year): the guessing budget.
   * The owner's own logins never give it back; only an administrator's 2FA reset does. With ±1 step
   * accepted a guess succeeds with p = 3/10^6, so `max` = 300 keeps 1 − (1 − p)^300 ≈ 9.0 × 10⁻⁴ below
   * 10⁻³ a year (NIST SP 800-63B 5.2.2; arithmetic in docs/security.md). Spent → TOTP is refused;
   * security keys and recovery codes (2^-64 per guess) still work.
   */
  totpGuessesPerYear: RateLimitRule;
  /** Wrong passwords typed to confirm a security change, per live session (no stranger can add to it). */
  reauthenticatePerSession: RateLimitRule;
}

/** Requests limited whether or not they succeed (services/request-limits.ts). */
export type RequestKind = 'register' | 'password-reset' | 'password-reset-mail' | 'verification-resend' | 'webauthn-options';

/** One kind of request: per client address block, for everyone together, and optionally per subject (an account or mailbox). */
export interface RequestLimitRules {
  /** Absent for a kind that is only ever taken without an address (`password-reset-mail`). */
  perAddress?: RateLimitRule;
  everyone: RateLimitRule;
  perSubject?: RateLimitRule;
  /** `verification-resend` only: verification mails to one mailbox, whichever account asked (services/verification-mail-cap.ts). */
  perRecipient?: RecipientCapRule;
}

/**
 * Verification mails to one mailbox per `windowMs`: `max` from every network together, and `perNetworkMax` from
 * one client network block (IPv4 /24, IPv6 /64; services/address-block.ts). A mail is held back when either is
 * full. The shared `max` alone let one network (or two accounts on one) keep an owner elsewhere from ever
 * getting a link; `perNetworkMax` alone would let a botnet flood the mailbox.
 */
export interface RecipientCapRule extends RateLimitRule {
  perNetworkMax: number;
}

export type RequestLimitConfig = Record<RequestKind, RequestLimitRules>;

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
  /**
   * The embedded default: each message becomes an `.eml` file in `directory`, its subject and path
   * logged; its links (which carry tokens) too when `logLinks` — only outside production (ASVS V7.1.1).
   */
  | { kind: 'files'; directory: string; logLinks: boolean }
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

/**
 * LATCHKEY_SUPPORT_CONTACT as pages and mail show it: where someone locked out of their account (second
 * factors and recovery codes lost) reaches the index's administrators, who alone can reset 2FA.
 */
export interface SupportContact {
  /** `mailto:ADDRESS`, or the https URL. */
  href: string;
  /** What is shown: the address, or the URL. */
  label: string;
}

/**
 * A client's time to send one whole request (main.ts): Node's own default, 300 s, let a client that sends its
 * body a few bytes at a time hold a connection for five minutes (a slow POST; the fuzz round held one so).
 * Every request here is a small form or JSON body. Answered 408 with the security headers (client-error.ts).
 */
export const REQUEST_TIMEOUT_MS = 30_000;

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
  requestLimits: RequestLimitConfig;
  argon2: Argon2Cost;
  /**
   * Express `trust proxy` (LATCHKEY_TRUST_PROXY): how many reverse proxies stand in front of the server
   * (a hop count: the client address is the one that many entries from the right of X-Forwarded-For),
   * or Express's list of trusted proxy addresses/subnets. Unset or 0: the socket address is used and
   * X-Forwarded-For is ignored. A forwarded value that is not an IP address is never used (routes/http.ts).
   */
  trustProxy?: number | string;
  /** Interface to listen on (HOST); default 127.0.0.1. */
  host?: string;
  /**
   * How long a client has to send one whole request, headers and body; default {@link REQUEST_TIMEOUT_MS}. Not an
   * environment variable: no form or API here takes longer to send; tests shorten it.
   */
  requestTimeoutMs?: number;
  mail: MailConfig;
  /** LATCHKEY_SUPPORT_CONTACT; unset, the pages and notices say to contact the administrators, with no link. */
  supportContact?: SupportContact;
  /**
   * Set by {@link loadConfig} when the secret key came from a generated file (created, moved or kept at
   * an old place): what the operator should know. The server prints it at start; it never holds the key.
   */
  secretKeyWarning?: string;
  /**
   * Set by {@link loadConfig}: other things the operator should know at start, one line each (an unknown
   * NODE_ENV, an origin where security keys cannot work). The server and the admin CLI print them as warnings.
   */
  warnings?: string[];
  /**
   * Set by {@link loadConfig} when no key was found and this very call generated one: the admin CLI then
   * refuses to queue mail for a database that already has accounts (services/admin.ts `secretKeyProblem`).
   */
  secretKeyGenerated?: boolean;
}

/** Where a configuration without explicit paths keeps its files (env-paths; tests pass temporary ones). */
export interface ConfigDirectories {
  /** The default SQLite database (and its mail folder) live here. */
  data: string;
  /** The generated secret key lives here: never the database's directory. */
  config: string;
}

/** The user's data and config directories for "latchkey" (XDG on Linux, Library on macOS, AppData on Windows). */
export function defaultConfigDirectories(): ConfigDirectories {
  const paths = envPaths('latchkey', { suffix: '' });
  return { data: paths.data, config: paths.config };
}

const MINUTE = 60_000;

const HOUR = 60 * MINUTE;
const YEAR = 365 * 24 * HOUR;

/** Defaults; the bound they give on guessing a second factor is explained in docs/security.md. */
export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  passwordPerAccount: { max: 10, windowMs: 15 * MINUTE },
  passwordPerAccountAllPlaces: { max: 10, windowMs: 15 * MINUTE },
  passwordPerIp: { max: 50, windowMs: 15 * MINUTE },
  secondFactorPerAccount: { max: 5, windowMs: 15 * MINUTE },
  secondFactorPerIp: { max: 30, windowMs: 15 * MINUTE },
  totpGuessesPerYear: { max: 300, windowMs: YEAR },
  reauthenticatePerSession: { max: 10, windowMs: 15 * MINUTE },
};

/**
 * Registration costs an argon2id hash (19 MiB) and a row, and answers "taken" for existing names;
 * reset and verification requests send mail. Per address: a household or office registers a few
 * accounts an hour; everyone together: a ceiling on what a botnet of any size can cost
 * (LATCHKEY_REGISTRATIONS_PER_HOUR raises it for a busy index).
 */
export const DEFAULT_REQUEST_LIMITS: RequestLimitConfig = {
  register: { perAddress: { max: 10, windowMs: HOUR }, everyone: { max: 300, windowMs: HOUR } },
  // Visible: per name as typed (so a 429 depends only on what was typed, never on whose it is).
  'password-reset': { perAddress: { max: 10, windowMs: HOUR }, everyone: { max: 600, windowMs: HOUR }, perSubject: { max: 3, windowMs: HOUR } },
  // Silent: reset links actually mailed to one account, whichever of its names was asked for; over it the
  // request answers like any other and sends nothing (services/password-resets.ts, QA finding 2).
  'password-reset-mail': { everyone: { max: 600, windowMs: HOUR }, perSubject: { max: 3, windowMs: HOUR } },
  // perRecipient: every verification mail (registration too) to one mailbox: 4 an hour from one network (an
  // owner's own use: the registration's link plus the account's 3 resends, so the cap never refuses it), 10 an
  // hour from all networks together (a botnet's ceiling; keeping an owner from their link needs it filled from
  // 3 or more other networks every hour).
  'verification-resend': {
    perAddress: { max: 10, windowMs: HOUR },
    everyone: { max: 600, windowMs: HOUR },
    perSubject: { max: 3, windowMs: HOUR },
    perRecipient: { max: 10, perNetworkMax: 4, windowMs: HOUR },
  },
  // Security-key ceremony options (login with T, or adding a key in a session): each stores a challenge
  // (3 writes). One ceremony asks once; the subject is the account. "Everyone" is set far above real use so
  // that no crowd of accounts can refuse the owner's key login (issue 14 point 7, ASVS V11.1.4).
  'webauthn-options': {
    perAddress: { max: 120, windowMs: 15 * MINUTE },
    everyone: { max: 20_000, windowMs: 15 * MINUTE },
    perSubject: { max: 30, windowMs: 15 * MINUTE },
  },
};

/**
 * Request limits for tests and the testing kit: every simulated client is 127.0.0.1 and suites
 * register hundreds of accounts, so the limits are lifted; request-limits tests use the defaults.
 */
export const LIFTED_REQUEST_LIMITS: RequestLimitConfig = {
  register: { perAddress: { max: 1_000_000, windowMs: HOUR }, everyone: { max: 1_000_000, windowMs: HOUR } },
  'password-reset': {
    perAddress: { max: 1_000_000, windowMs: HOUR },
    everyone: { max: 1_000_000, windowMs: HOUR },
    perSubject: { max: 1_000_000, windowMs: HOUR },
  },
  'password-reset-mail': { everyone: { max: 1_000_000, windowMs: HOUR }, perSubject: { max: 1_000_000, windowMs: HOUR } },
  'verification-resend': {
    perAddress: { max: 1_000_000, windowMs: HOUR },
    everyone: { max: 1_000_000, windowMs: HOUR },
    perSubject: { max: 1_000_000, windowMs: HOUR },
    perRecipient: { max: 1_000_000, perNetworkMax: 1_000_000, windowMs: HOUR },
  },
  'webauthn-options': {
    perAddress: { max: 1_000_000, windowMs: HOUR },
    everyone: { max: 1_000_000, windowMs: HOUR },
    perSubject: { max: 1_000_000, windowMs: HOUR },
  },
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
 * Read the configuration from environment variables (docs/server.md has the table).
 * When LATCHKEY_SECRET_KEY is unset a key is generated once and persisted (mode 0600) in the user's
 * config directory — never beside the database, so a copy of the data directory alone decrypts no
 * TOTP secret (DESIGN §3) — and `secretKeyWarning` says so; with PostgreSQL in production it must be
 * set, because several instances must share it.
 * @param directories where defaults live; tests pass temporary directories so nothing touches the real ones.
 */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env, directories: ConfigDirectories = defaultConfigDirectories()): Promise<Config> {
  const warnings: string[] = [];
  const production = parseNodeEnv(env.NODE_ENV, warnings);
  const port = parsePort(env.PORT);
  const dataDir = directories.data;
  const databaseUrl = env.DATABASE_URL?.trim() || `sqlite:${path.join(dataDir, 'latchkey.db')}`;
  if (!databaseUrl.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be "sqlite:PATH" or "postgres://…".');
  }
  // A malformed PostgreSQL URL used to stop the start-up with a bare "Invalid URL" naming no variable.
  if (!databaseUrl.startsWith('sqlite:') && !URL.canParse(databaseUrl)) {
    throw new ConfigError('DATABASE_URL is not a valid URL; use e.g. postgres://user:password@host:5432/latchkey (percent-encode special characters).');
  }
  const origin = parseOrigin(env.LATCHKEY_ORIGIN?.trim() || defaultOrigin(port));
  const rpId = parseRpId(env.LATCHKEY_RP_ID, new URL(origin).hostname, warnings);
  const secret = await resolveSecretKey(env.LATCHKEY_SECRET_KEY, databaseUrl, directories, production);
  const rpName = parseRpName(env.LATCHKEY_RP_NAME);
  const config: Config = {
    port,
    databaseUrl,
    origin,
    rpId,
    rpName,
    secretKey: secret.key,
    production,
    rateLimits: DEFAULT_RATE_LIMITS,
    requestLimits: withRegistrationsPerHour(DEFAULT_REQUEST_LIMITS, env.LATCHKEY_REGISTRATIONS_PER_HOUR),
    argon2: DEFAULT_ARGON2,
    host: env.HOST?.trim() || '127.0.0.1',
    mail: {
      ...DEFAULT_MAIL_DELIVERY,
      from: parseMailFrom(env.LATCHKEY_MAIL_FROM, origin, rpName),
      transport: parseMailTransport(env.LATCHKEY_SMTP_URL, databaseUrl, dataDir, production),
    },
  };
  const trustProxy = parseTrustProxy(env.LATCHKEY_TRUST_PROXY);
  if (trustProxy !== undefined) config.trustProxy = trustProxy;
  const supportContact = parseSupportContact(env.LATCHKEY_SUPPORT_CONTACT);
  if (supportContact !== undefined) config.supportContact = supportContact;
  if (secret.warning) config.secretKeyWarning = secret.warning;
  if (warnings.length > 0) config.warnings = warnings;
  if (secret.generated) config.secretKeyGenerated = true;
  return config;
}

/**
 * Configuration for tests: a fixed origin, a fresh random secret, an in-memory-cheap but real
 * argon2id (same algorithm and code path, lower memory/time cost only), the production limits on failed
 * logins and second factors, and the request limits (registrations, reset and verification mails,
 * key-ceremony options) lifted — every test registers from 127.0.0.1; pass `DEFAULT_REQUEST_LIMITS` to test them.
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
    requestLimits: LIFTED_REQUEST_LIMITS,
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
        "generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"",
    );
  }
  return bytes;
}

/** The NODE_ENV values this server knows; anything else runs as development, with a warning. */
const KNOWN_NODE_ENVS: ReadonlySet<string> = new Set(['development', 'test', 'production']);

/**
 * NODE_ENV=production, and only that exact value, switches on the production safeguards (the secret key
 * required with PostgreSQL, no token-bearing links in the log). `Production`, ` production` or `prod` used to
 * run silently without them; they are refused, since the operator plainly meant production. Any other
 * unknown value runs as development, with one warning line in `warnings`.
 */
export function parseNodeEnv(value: string | undefined, warnings: string[]): boolean {
  if (value === undefined || value === '') return false;
  if (value === 'production') return true;
  const word = value.trim().toLowerCase();
  if (word === 'production' || word === 'prod' || word === 'prd') {
    throw new ConfigError(
      `NODE_ENV=${JSON.stringify(value)} is not understood: write exactly NODE_ENV=production (lower case, no spaces) for the production safeguards.`,
    );
  }
  if (!KNOWN_NODE_ENVS.has(value)) {
    warnings.push(
      `NODE_ENV=${JSON.stringify(value)} is not development, test or production: running without the production safeguards (write NODE_ENV=production for them).`,
    );
  }
  return false;
}

/** One DNS label: letters, digits and inner hyphens, at most 63 characters (RFC 1035 §2.3.1, RFC 1123 §2.1). */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The WebAuthn relying-party id: LATCHKEY_RP_ID, else the origin's host. Browsers refuse a ceremony whose RP ID
 * is not a valid domain equal to the page's host or a registrable suffix of it (WebAuthn L3 §5.1.3 step 7–8, HTML
 * "is a registrable domain suffix of or is equal to"): an IP address, a top-level label such as `example` under
 * `index.example` (a public suffix), a name with a scheme, port, path or trailing dot never matches, and every
 * security-key registration and login would fail in the browser. What is refused here is what no browser accepts;
 * a multi-label public suffix (`co.uk`) is not caught without the Public Suffix List (docs/server.md says so).
 * An origin at an IP address with no RP ID set is only a warning: passwords and codes still work there.
 */
function parseRpId(value: string | undefined, host: string, warnings: string[]): string {
  const given = value?.trim();
  if (!given) {
    if (isIP(host.replace(/^\[|\]$/g, '')) !== 0) {
      warnings.push(
        `LATCHKEY_ORIGIN's host ${host} is an IP address: browsers offer security keys only on a domain name (WebAuthn L3 §5.1.3), so none can be added or used. Use a host name (http://localhost:PORT in development).`,
      );
    }
    return host;
  }
  const refuse = (why: string) =>
    new ConfigError(`LATCHKEY_RP_ID "${given}" ${why} It is the domain name alone: the origin's host "${host}" or a parent domain of it, e.g. example.org.`);
  if (/[/:@?#[\]]/.test(given)) throw refuse('must not hold a scheme, port, path or brackets.');
  if (given.endsWith('.')) throw refuse('must not end with a dot.');
  if (given !== given.toLowerCase()) throw refuse('must be written in lower case (as browsers compare it to the host).');
  if (isIP(given) !== 0 || /^[0-9.]+$/.test(given)) throw refuse('is an IP address: browsers accept only a domain name as RP ID (WebAuthn L3 §5.1.3).');
  const labels = given.split('.');
  // xn-- labels are accepted as they are (an internationalized name written as the URL parser writes it).
  if (given.length > 253 || !labels.every((label) => DNS_LABEL.test(label)))
    throw refuse('is not a valid domain name (letters, digits, "-" and dots; an internationalized name in its xn-- form).');
  if (host !== given && !host.endsWith(`.${given}`)) {
    throw new ConfigError(`LATCHKEY_RP_ID "${given}" must be the origin's host "${host}" or a parent domain of it.`);
  }
  // A single label as a parent is a top-level domain: a public suffix, which browsers refuse as RP ID
  // (`localhost` under `app.localhost` too); as the host itself (`localhost`, an intranet `https://wiki`) it is accepted.
  if (labels.length === 1 && given !== host) {
    throw refuse(`is a top-level domain: browsers refuse it as the RP ID of ${host} (a public suffix, not a registrable domain).`);
  }
  return given;
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 8080;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535, not "${value}".`);
  }
  return port;
}

/**
 * `http://localhost:PORT` — but not for PORT=0: the port is only chosen when the server listens, after every
 * link, cookie and WebAuthn check has taken the origin, which was then `http://localhost:0` (QA, http-devtools).
 */
function defaultOrigin(port: number): string {
  if (port === 0) {
    throw new ConfigError('PORT=0 (any free port) needs LATCHKEY_ORIGIN: the public origin cannot name a port chosen later. Set a port, or the origin.');
  }
  return `http://localhost:${port}`;
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
  // The routes live at the root: a path (a sub-path deployment) was silently dropped, and every link with it.
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError(
      `LATCHKEY_ORIGIN "${value}" must be an origin only (scheme, host and port, e.g. https://index.example.org): Latchkey is served at the root of its host.`,
    );
  }
  return url.origin;
}

/**
 * The index's name, shown in security-key prompts and mail subjects and greetings: one line of printable
 * text. A line break in it made every mail's subject unsendable — and every change that queues a notice in
 * its own transaction (registration, password and 2FA changes) a 500.
 */
function parseRpName(value: string | undefined): string {
  if (value === undefined) return 'Latchkey';
  const text = value.trim();
  // Set but blank: the index would have no name in prompts and subjects, or the default where a name was meant.
  if (!text) throw new ConfigError('LATCHKEY_RP_NAME is set but blank: give the index’s name (e.g. "Example Index"), or unset it for "Latchkey".');
  if (/\p{Cc}/u.test(text) || text.length > 100) {
    throw new ConfigError('LATCHKEY_RP_NAME must be one line of at most 100 printable characters (the index’s name, e.g. "Example Index").');
  }
  return text;
}

/**
 * The From of every message. By default the index's own name (LATCHKEY_RP_NAME, as its subjects already
 * say) at no-reply@ its host: mail from "Latchkey" about an account on "Example Index" reads like someone
 * else's. The name is a quoted string (RFC 5322 §3.2.4), so a comma or a bracket in it stays part of it.
 */
function parseMailFrom(value: string | undefined, origin: string, rpName: string): string {
  const text = value?.trim();
  if (!text) return `"${rpName.replace(/["\\]/g, '\\$&')}" <no-reply@${new URL(origin).hostname}>`;
  // A bare address or `Name <address>`; a line break here would let the value inject headers.
  if (/[\r\n]/.test(text) || !/^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(text)) {
    throw new ConfigError(`LATCHKEY_MAIL_FROM "${text}" must be an address, e.g. no-reply@index.example.org or "Latchkey <no-reply@index.example.org>".`);
  }
  return text;
}

/**
 * LATCHKEY_SMTP_URL set: SMTP through nodemailer. Unset: `.eml` files in a `mail` folder beside the
 * SQLite database (or in the user's data directory), so a fresh `npm start` needs no mail server. The
 * links are logged for a developer to click, but not in production, where a log is kept and read by
 * others: a reset link in it would let its reader take the account (ASVS V7.1.1, no secrets in logs).
 */
function parseMailTransport(value: string | undefined, databaseUrl: string, dataDir: string, production: boolean): MailTransportConfig {
  const text = value?.trim();
  if (text) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError('LATCHKEY_SMTP_URL is not a URL; use e.g. smtps://user:password@smtp.example.org:465');
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
      throw new ConfigError(
        'LATCHKEY_SMTP_URL must start with smtp:// (STARTTLS; required when the URL has a login and the server is not this machine) or smtps:// (TLS from the start).',
      );
    }
    checkSmtpUrl(url);
    return { kind: 'smtp', url: text };
  }
  const sqlitePath = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : null;
  const base = sqlitePath && sqlitePath !== ':memory:' ? path.dirname(path.resolve(sqlitePath)) : dataDir;
  return { kind: 'files', directory: path.join(base, 'mail'), logLinks: !production };
}

/**
 * The query parameters LATCHKEY_SMTP_URL may carry, and what each takes. nodemailer copies every query
 * parameter into its SMTP options (shared `parseConnectionUrl`: `true`/`false` become booleans, `tls.X` goes to
 * the TLS options, anything else to the top level), so a typo (`requireTls`) or a stray option (`ignoreTLS`,
 * `tls.rejectUnauthorized=false`, `pool`, `logger`) used to be taken silently — or to turn off TLS and certificate
 * checks this page promises. Only these are taken: `requireTLS` (the STARTTLS rule, mail-transport.ts
 * `requiresTls`), `name` (the host name said in EHLO), `authMethod` (the SASL mechanism, e.g. PLAIN or LOGIN) and
 * `tls.servername` (the certificate's name, when the URL names the server by address).
 */
const SMTP_URL_PARAMETERS: Readonly<Record<string, 'boolean' | 'word'>> = {
  requireTLS: 'boolean',
  name: 'word',
  authMethod: 'word',
  'tls.servername': 'word',
};

/** Refuses an SMTP URL nodemailer would take in a way nobody meant: no host, an unknown parameter, `requireTLS=maybe`. */
function checkSmtpUrl(url: URL): void {
  // `smtp://` alone used to pass: nodemailer then connects to localhost:587, not where the operator thought.
  if (url.hostname === '') {
    throw new ConfigError('LATCHKEY_SMTP_URL has no host; use e.g. smtps://user:password@smtp.example.org:465 or smtp://smtp.example.org:587');
  }
  const accepted = Object.entries(SMTP_URL_PARAMETERS)
    .map(([key, kind]) => `${key}=${kind === 'boolean' ? 'true|false' : '…'}`)
    .join(', ');
  const seen = new Set<string>();
  for (const [key, value] of url.searchParams) {
    const kind = SMTP_URL_PARAMETERS[key];
    if (kind === undefined) throw new ConfigError(`LATCHKEY_SMTP_URL has an unknown parameter "${key}"; the accepted ones are ${accepted}.`);
    if (seen.has(key)) throw new ConfigError(`LATCHKEY_SMTP_URL gives "${key}" more than once; give it once.`);
    seen.add(key);
    if (kind === 'boolean' && value !== 'true' && value !== 'false') {
      throw new ConfigError(`LATCHKEY_SMTP_URL's ${key} must be true or false, not "${value}".`);
    }
    if (kind === 'word' && !/^[A-Za-z0-9.-]+$/.test(value)) {
      throw new ConfigError(`LATCHKEY_SMTP_URL's ${key} must be a name (letters, digits, "." and "-"), not "${value}".`);
    }
  }
}

/**
 * LATCHKEY_TRUST_PROXY: a hop count (the number of reverse proxies in front of the server), or
 * Express's list of trusted addresses/subnets ("loopback", "10.0.0.0/8, fd00::/8"). `true` used to
 * mean "trust every hop", which let any client choose its address by sending X-Forwarded-For; it is
 * now read as 1 (one proxy in front), the usual set-up it was meant for. `false` or 0 turns it off.
 */
export function parseTrustProxy(value: string | undefined): number | string | undefined {
  const text = value?.trim();
  if (!text || text === 'false' || text === '0') return undefined;
  if (text === 'true') return 1;
  if (/^\d+$/.test(text)) return Number(text);
  const refusal = `LATCHKEY_TRUST_PROXY must be a hop count (0, 1, 2, …) or a list of trusted proxy addresses, not "${text}".`;
  if (/^-/.test(text) || /^\d*\.\d+$/.test(text)) throw new ConfigError(refusal);
  // Compiled by Express itself, as the app will: a bad list ("foo", "10.0.0.0/99") used to stop the start-up
  // with proxy-addr's "invalid IP address: foo", naming no variable.
  try {
    express().set('trust proxy', text);
  } catch (error) {
    throw new ConfigError(`${refusal} ${error instanceof Error ? error.message : String(error)}.`);
  }
  return text;
}

const SUPPORT_CONTACT_EXAMPLE = 'e.g. security@index.example.org or https://index.example.org/help/account-recovery';

/**
 * LATCHKEY_SUPPORT_CONTACT: an e-mail address (shown as a `mailto:` link; a leading `mailto:` is accepted)
 * or an https URL. It is shown to people who cannot log in, on pages anyone can open and in every security
 * notice, so it is checked strictly: an address of ASCII letters, digits and RFC 5322 atext characters at a
 * dotted domain (no second address, no `?subject=` or header part), or an https URL without a login in it.
 */
export function parseSupportContact(value: string | undefined): SupportContact | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/\p{Cc}/u.test(text) || text.length > 300) {
    throw new ConfigError(
      `LATCHKEY_SUPPORT_CONTACT must be one line of at most 300 characters: an e-mail address or an https URL, ${SUPPORT_CONTACT_EXAMPLE}.`,
    );
  }
  if (/^https?:/i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError(`LATCHKEY_SUPPORT_CONTACT "${text}" is not a URL; use an https URL or an e-mail address, ${SUPPORT_CONTACT_EXAMPLE}.`);
    }
    // Shown to people who cannot log in: a plain-http page could be rewritten on the way to them.
    if (url.protocol !== 'https:') throw new ConfigError(`LATCHKEY_SUPPORT_CONTACT "${text}" must be an https:// URL (or an e-mail address).`);
    if (url.username !== '' || url.password !== '') throw new ConfigError('LATCHKEY_SUPPORT_CONTACT must not carry a user name or password.');
    return { href: url.href, label: url.href };
  }
  const address = text.replace(/^mailto:/i, '');
  // One plain address: no display name, no second address, no `?subject=`/`?bcc=` part of a mailto: URL.
  if (
    !/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/.test(address)
  ) {
    throw new ConfigError(
      `LATCHKEY_SUPPORT_CONTACT "${text}" must be an e-mail address (ASCII, at a domain with a dot) or an https URL, ${SUPPORT_CONTACT_EXAMPLE}.`,
    );
  }
  const at = address.lastIndexOf('@');
  // `?`, `#`, `%` and `&` are legal in an address but not as themselves in a mailto: URL (RFC 6068 §2).
  return { href: `mailto:${encodeURIComponent(address.slice(0, at))}@${address.slice(at + 1)}`, label: address };
}

function withRegistrationsPerHour(limits: RequestLimitConfig, value: string | undefined): RequestLimitConfig {
  const text = value?.trim();
  if (!text) return limits;
  const max = Number(text);
  if (!Number.isInteger(max) || max < 1) throw new ConfigError(`LATCHKEY_REGISTRATIONS_PER_HOUR must be a whole number of at least 1, not "${text}".`);
  return { ...limits, register: { ...limits.register, everyone: { max, windowMs: HOUR } } };
}

/** The directory holding the SQLite file, or null (PostgreSQL, in-memory SQLite). */
function sqliteDirectory(databaseUrl: string): string | null {
  const sqlitePath = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : null;
  return sqlitePath && sqlitePath !== ':memory:' ? path.dirname(path.resolve(sqlitePath)) : null;
}

/** Is `inner` the directory `outer` or somewhere inside it? */
function isWithin(inner: string, outer: string): boolean {
  const relative = path.relative(path.resolve(outer), path.resolve(inner));
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

const SET_THE_KEY = 'In production set LATCHKEY_SECRET_KEY (32+ random bytes, base64url) from a secret store instead; see docs/security.md, "The secret key".';

/**
 * The secret key: LATCHKEY_SECRET_KEY, else a generated file in the config directory. Before issue 14
 * the file was generated beside the SQLite database (or in the data directory); such a file is moved to
 * the new place — never replaced by a new key, which would leave every stored TOTP secret undecryptable.
 */
async function resolveSecretKey(
  fromEnv: string | undefined,
  databaseUrl: string,
  directories: ConfigDirectories,
  production: boolean,
): Promise<{ key: string; warning?: string; generated?: boolean }> {
  const given = fromEnv?.trim();
  if (given) {
    decodeSecretKey(given);
    return { key: given };
  }
  const databaseDir = sqliteDirectory(databaseUrl);
  if (!databaseUrl.startsWith('sqlite:') && production) {
    throw new ConfigError(
      'LATCHKEY_SECRET_KEY is required in production with PostgreSQL: every instance must share it, ' +
        'and it must not live only on one machine. Set it to 32+ random bytes, base64url-encoded.',
    );
  }
  const file = path.join(directories.config, SECRET_FILE_NAME);
  if (databaseDir !== null && isWithin(directories.config, databaseDir)) {
    // A copy of the database's directory would carry the key with it (DESIGN §3).
    throw new ConfigError(
      `The generated secret key would be kept in ${directories.config}, inside the database's directory ${databaseDir}. ` +
        'Set LATCHKEY_SECRET_KEY (32+ random bytes, base64url), or keep the database elsewhere.',
    );
  }
  const legacy = path.join(databaseDir ?? directories.data, SECRET_FILE_NAME);
  const legacyKey = path.resolve(legacy) === path.resolve(file) ? null : await readSecretFile(legacy);
  if (legacyKey !== null) {
    // ASVS V6.4.1: the key must not sit beside the data it protects; move it, keeping its value.
    const current = await readSecretFile(file);
    if (current === null || current === legacyKey) {
      if (current === null) await writeSecretFile(file, legacyKey);
      if ((await readSecretFile(file)) === legacyKey) {
        await unlink(legacy);
        return {
          key: legacyKey,
          warning: `The secret key file was moved from ${legacy} (beside the data) to ${file}. Back it up apart from the database. ${SET_THE_KEY}`,
        };
      }
    }
    // Another key is already at the new place (another installation's): this database was encrypted with the old one.
    return {
      key: legacyKey,
      warning: `Using the secret key file ${legacy}, which sits beside the data: a copy of that directory decrypts every TOTP secret. ${SET_THE_KEY}`,
    };
  }
  const stored = await readSecretFile(file);
  if (stored !== null) return { key: stored, warning: `Using the generated secret key in ${file}. ${SET_THE_KEY}` };
  const generated = randomBytes(32).toString('base64url');
  const created = await writeSecretFile(file, generated);
  // Another process may have created the file first: then its key is used, and it was not generated here.
  return { key: created, warning: `Generated a secret key and saved it in ${file} (mode 0600). ${SET_THE_KEY}`, generated: created === generated };
}

/** The key in `file`, or null when there is no such file; a damaged file is a {@link ConfigError}. */
async function readSecretFile(file: string): Promise<string | null> {
  let stored: string;
  try {
    stored = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    // ENOTDIR: a path through a file holds no key file either (an old one beside a DATABASE_URL that
    // names a path below a file); the database then refuses that location, naming DATABASE_URL.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
  try {
    decodeSecretKey(stored);
  } catch (error) {
    throw new ConfigError(`The secret key file ${file} is damaged: ${(error as Error).message}`);
  }
  return stored;
}

/** Create `file` (mode 0600) holding `key`; if another process created it first, theirs wins and is returned. */
async function writeSecretFile(file: string, key: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // `wx` fails if another process created it first; then we read theirs (two instances, one key).
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stored = await readSecretFile(file);
  if (stored === null) throw new ConfigError(`The secret key file ${file} vanished while it was being created; start again.`);
  return stored;
}
