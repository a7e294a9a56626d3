// A Latchkey deployment for the bench: a throw-away database (SQLite file or PostgreSQL schema), N server
// processes on it, and the server's own services in the driver for preparing data (same config, same key).
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import { DEFAULT_ARGON2, DEFAULT_RATE_LIMITS, testConfig, type Config, type RateLimitConfig } from '../../../server/src/config.js';
import { openDatabase } from '../../../server/src/db/index.js';
import type { Database } from '../../../server/src/db/schema.js';
import { createTestDatabaseUrl } from '../../../server/src/db/test-database.js';
import { createServices, type Services } from '../../../server/src/services/index.js';
import { migrate } from './seed.js';
import { spawnServer, type ServerProcess } from './server-process.js';

/** The password every bench user has (hashed once at the server's argon2 cost). */
export const BENCH_PASSWORD = 'bench password: correct horse battery staple';

const UNLIMITED = { max: 1_000_000_000, windowMs: 60_000 };
/**
 * The bench drives thousands of failures from one IP against a few accounts; with the production limits
 * the limiter would answer 429 after a handful and we would measure the limiter, not the verification.
 * The limiter still runs (it reads and writes its counters on every request), it just never trips.
 * The year's TOTP guessing budget keeps its production value: the bench spreads wrong codes over enough
 * accounts that none reaches it, and a lifted budget would let one account pile up thousands of guess
 * rows a second — a table no deployment can have (the budget caps it at 300 an account), whose count
 * the wrong-code row would then be measuring.
 */
export const BENCH_RATE_LIMITS: RateLimitConfig = {
  passwordPerAccount: UNLIMITED,
  passwordPerAccountAllPlaces: UNLIMITED,
  passwordPerIp: UNLIMITED,
  secondFactorPerAccount: UNLIMITED,
  secondFactorPerIp: UNLIMITED,
  totpGuessesPerYear: DEFAULT_RATE_LIMITS.totpGuessesPerYear,
  reauthenticatePerSession: UNLIMITED,
};

export interface Deployment {
  dialect: 'sqlite' | 'postgres';
  databaseUrl: string;
  config: Config;
  /** The server's services in the driver process, on their own connection (for preparing data only). */
  services: Services;
  db: Kysely<Database>;
  servers: ServerProcess[];
  /** Starts one more server process on the same database. */
  addServer(): Promise<ServerProcess>;
  /**
   * Starts a server from another checkout (its root directory) on the same database, not in `servers`:
   * the "before" of before/after rows. Its schema must be this one's (no migration in between).
   */
  addCompareServer(checkout: string): Promise<ServerProcess>;
  close(): Promise<void>;
}

export async function createDeployment(
  dialect: 'sqlite' | 'postgres',
  options: { label: string; cpuProfileDir?: string /** Time the servers' SQLite statements (statement-times.ts). */; statementTimes?: boolean },
): Promise<Deployment> {
  const { databaseUrl, drop } = await createTestDatabaseUrl(dialect);
  await retryMigrationRace(() => migrate(databaseUrl));
  const overrides: Partial<Config> = {
    databaseUrl,
    secretKey: randomBytes(32).toString('base64url'),
    // The production argon2id cost (testConfig's default is a cheap one for unit tests).
    argon2: DEFAULT_ARGON2,
    rateLimits: BENCH_RATE_LIMITS,
    origin: 'http://localhost',
    rpId: 'localhost',
  };
  const config = testConfig(overrides);
  const db = openDatabase(databaseUrl);
  const services = createServices(db, config);
  const servers: ServerProcess[] = [];
  const others: ServerProcess[] = [];
  const spawn = (label: string, env: Record<string, string> = {}) =>
    retryMigrationRace(() =>
      spawnServer('latchkey-server', {
        label,
        env: { BENCH_SERVER_CONFIG: JSON.stringify(overrides), ...(options.statementTimes ? { BENCH_STATEMENT_TIMES: '1' } : {}), ...env },
        ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}),
      }),
    );
  const addServer = async () => {
    const server = await spawn(`${options.label}-${servers.length + 1}`);
    servers.push(server);
    return server;
  };
  const addCompareServer = async (checkout: string) => {
    const root = resolve(checkout);
    const server = await spawn(`${options.label}-before`, {
      BENCH_SERVER_SRC: join(root, 'server/src'),
      TSX_TSCONFIG_PATH: join(root, 'server/tsconfig.json'),
    });
    others.push(server);
    return server;
  };
  return {
    dialect,
    databaseUrl,
    config,
    services,
    db,
    servers,
    addServer,
    addCompareServer,
    async close() {
      // Requests still in flight when a load run stops would otherwise meet a closed database.
      await new Promise((done) => setTimeout(done, 1_000));
      await Promise.all([...servers, ...others].map((server) => server.stop()));
      await db.destroy();
      await drop();
    },
  };
}

/**
 * Kysely's migrator looks for its tables by introspecting every schema in the database; when another test
 * run drops its own throw-away schema at that moment, PostgreSQL answers `schema "lk_test_…" does not exist`
 * (or the lock table seems missing) and the migration fails although nothing is wrong with ours. Retry then.
 */
async function retryMigrationRace<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= 3 || !/does not exist/.test(message)) throw error;
    }
  }
}
