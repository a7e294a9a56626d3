import { createServer } from 'node:net';
import { testConfig, type Config } from '../../../server/src/config.js';
import { createTestDatabaseUrl, TEST_POSTGRES_URL } from '../../../server/src/db/test-database.js';
import { startServer } from '../../../server/src/main.js';
import type { Services } from '../../../server/src/services/index.js';

export interface StartTestServerOptions {
  /** Database backend: a fresh SQLite file, or a fresh PostgreSQL schema. Default `'sqlite'`. */
  dialect?: 'sqlite' | 'postgres';
  /** Overrides of the server's test configuration (e.g. `rateLimits`). Origin, port and database are the kit's. */
  config?: Partial<Omit<Config, 'origin' | 'port' | 'databaseUrl' | 'rpId'>>;
  /**
   * Deliver the server's mail to this SMTP server (e.g. `(await startMailCatcher()).url`), polling the
   * outbox every 100 ms and retrying quickly. Without it mail stays queued in the outbox.
   */
  smtpUrl?: string;
}

export interface TestClock {
  /** Moves the server's clock forward (e.g. past the 300 s two-factor token lifetime). */
  advance(ms: number): void;
  /** Back to real time. */
  reset(): void;
}

export interface TestServer {
  /** `http://localhost:PORT`: the server's configured origin (WebAuthn and the extension check it). */
  url: string;
  dialect: 'sqlite' | 'postgres';
  config: Config;
  /** The server's own services (accounts, totp, recovery codes, webauthn, events …) for setup and assertions. */
  services: Services;
  /** Moves the server's notion of "now" for this test (see {@link startTestServer}). */
  clock: TestClock;
  /** Stops the server, drops its database and resets the clock. */
  close(): Promise<void>;
}

/**
 * Starts a real Latchkey server in this process on a free loopback port, with its own throw-away
 * database (SQLite file or PostgreSQL schema `lk_test_*`, migrated at start). The origin is
 * `http://localhost:PORT` — a secure context, so WebAuthn works without TLS. `close()` drops the
 * database. Configuration is the server's `testConfig()`: production login limits (wrong passwords,
 * wrong second factors) and semantics, a cheaper argon2id cost, and the request limits lifted —
 * registrations, password-reset and verification mails, key-ceremony options — because every test
 * request comes from 127.0.0.1 (production allows 10 registrations an hour per address). To test
 * those limits: `startTestServer({ config: { requestLimits: DEFAULT_REQUEST_LIMITS } })`.
 *
 * `clock.advance(ms)` shifts `Date.now()` in this process (the server reads time only through it),
 * so a test can expire a two-factor token without waiting five minutes. It affects everything in
 * this process until `clock.reset()` or `close()`; Chromium runs in its own process and is untouched.
 * Several servers in one process share that clock: their advances add up, and each one's `reset()` or
 * `close()` takes back only its own.
 *
 * @example
 * ```ts
 * const server = await startTestServer({ dialect: 'postgres' });
 * const alice = await createUserIn(server, 'totp');
 * await page.goto(`${server.url}/account/login/`);
 * // …
 * await server.close();
 * ```
 */
export async function startTestServer(options: StartTestServerOptions = {}): Promise<TestServer> {
  const dialect = options.dialect ?? 'sqlite';
  if (dialect !== 'sqlite' && dialect !== 'postgres') throw new TypeError(`startTestServer: dialect must be 'sqlite' or 'postgres', got ${String(dialect)}`);
  const database = await createTestDatabaseUrl(dialect).catch((error: unknown) => {
    throw dialect === 'postgres' ? testPostgresUnreachable(error) : error;
  });
  const clock = createTestClock();
  try {
    // The origin must name the port before the server starts, so reserve a free port first; another
    // process taking it in between is retried.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = testConfig({ ...options.config, port, databaseUrl: database.databaseUrl, origin: `http://localhost:${port}`, rpId: 'localhost' });
      if (options.smtpUrl)
        config.mail = { ...config.mail, transport: { kind: 'smtp', url: options.smtpUrl }, pollMs: 100, backoffMs: 200, maxBackoffMs: 1_000 };
      try {
        const running = await startServer(config);
        let closing: Promise<void> | undefined;
        return {
          url: config.origin,
          dialect,
          config,
          services: running.services,
          clock,
          close: () =>
            (closing ??= (async () => {
              clock.reset();
              await running.close();
              await database.drop();
            })()),
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw error;
      }
    }
  } catch (error) {
    clock.reset();
    await database.drop();
    throw error;
  }
}

/**
 * pg's own message ("connect ECONNREFUSED 127.0.0.1:5432", "database "test" does not exist") names
 * neither the test database nor the variable that chooses it.
 */
function testPostgresUnreachable(error: unknown): Error {
  const url = new URL(TEST_POSTGRES_URL);
  if (url.password !== '') url.password = '***';
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(
    `startTestServer({ dialect: 'postgres' }): cannot create a schema in the test PostgreSQL at ${url.toString()} (${reason}). ` +
      'Is PostgreSQL running there? LATCHKEY_TEST_DATABASE_URL chooses another (default postgres://postgres@127.0.0.1:5432/test).',
    { cause: error },
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const realDateNow = Date.now.bind(Date);
/**
 * The sum of every live server's advances. There is one `Date.now()` per process, so with several servers
 * in it, each one's time is moved by all of them — but never back past its own advances: one server's
 * reset or close takes back its own offset only (it used to set the total, undoing the others').
 */
let activeOffsetMs = 0;

function shiftProcessClock(byMs: number): void {
  activeOffsetMs += byMs;
  Date.now = activeOffsetMs === 0 ? realDateNow : () => realDateNow() + activeOffsetMs;
}

function createTestClock(): TestClock {
  let ownOffsetMs = 0;
  return {
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`clock.advance: expected a non-negative number of ms, got ${ms}`);
      ownOffsetMs += ms;
      shiftProcessClock(ms);
    },
    reset() {
      if (ownOffsetMs === 0) return;
      shiftProcessClock(-ownOffsetMs);
      ownOffsetMs = 0;
    },
  };
}
