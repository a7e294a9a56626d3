/**
 * A throw-away Latchkey deployment for the reliability suite: one fresh database (SQLite file or
 * PostgreSQL schema), one shared secret key, N server instances in child processes, plus the
 * server's own services opened in this process on the same database — for seeding users and for
 * reading the database after a crash, never for the requests under test.
 */
import { randomBytes } from 'node:crypto';
import { testConfig, type Config, type RateLimitConfig } from '../../../../server/src/config.js';
import { openDatabase } from '../../../../server/src/db/index.js';
import { createTestDatabaseUrl } from '../../../../server/src/db/test-database.js';
import { createServices, type Services } from '../../../../server/src/services/index.js';
import type { Clock } from '../../../../server/src/services/clock.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DeploymentOptions {
  dialect: Dialect;
  instances: number;
  /** Override the production limits (only where the limiter is not what is being tested). */
  rateLimits?: RateLimitConfig;
  /** Override the (cheap) test argon2 cost, e.g. with the production cost for timing measurements. */
  argon2?: Config['argon2'];
  /** Start the instances all at once (migration race) instead of one after another. */
  startTogether?: boolean;
  /** Mail delivery of every instance (default: none, mail stays in the outbox). */
  mail?: Config['mail'];
}

export interface Deployment {
  dialect: Dialect;
  databaseUrl: string;
  /** The config every instance runs with (port aside). */
  config: Config;
  instances: ServerProcess[];
  /** Base URLs of the running instances, in order. */
  urls(): string[];
  /** Services on the deployment's database, in this process (seeding, inspection). */
  services: Services;
  /** Services whose clock is shifted by `offsetMs` (e.g. to issue an already-expired two-factor token). */
  servicesAt(offsetMs: number): Services;
  /** Replace instance `index` by a fresh process on the same database (after a crash). */
  restart(index: number): Promise<ServerProcess>;
  /** Stop every instance, close the services, drop the database. */
  close(): Promise<void>;
}

export async function startDeployment(options: DeploymentOptions): Promise<Deployment> {
  const database = await createTestDatabaseUrl(options.dialect);
  const config = testConfig({
    databaseUrl: database.databaseUrl,
    secretKey: randomBytes(32).toString('base64url'),
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
    ...(options.argon2 ? { argon2: options.argon2 } : {}),
    ...(options.mail ? { mail: options.mail } : {}),
  });
  const childConfig = {
    databaseUrl: config.databaseUrl,
    secretKey: config.secretKey,
    rateLimits: config.rateLimits,
    origin: config.origin,
    rpId: config.rpId,
    argon2: config.argon2,
    mail: config.mail,
  };
  const instances: ServerProcess[] = [];
  const opened: Services[] = [];
  try {
    if (options.startTogether) {
      const started = await Promise.allSettled(Array.from({ length: options.instances }, () => startServerProcess(childConfig)));
      for (const result of started) if (result.status === 'fulfilled') instances.push(result.value);
      const failure = started.find((result) => result.status === 'rejected');
      if (failure) throw (failure as PromiseRejectedResult).reason;
    } else {
      for (let i = 0; i < options.instances; i++) instances.push(await startServerProcess(childConfig));
    }
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.stop()));
    await database.drop();
    throw error;
  }
  const open = (now?: Clock): Services => {
    const services = createServices(openDatabase(config.databaseUrl), config, now ? { now } : {});
    opened.push(services);
    return services;
  };
  const services = open();
  return {
    dialect: options.dialect,
    databaseUrl: config.databaseUrl,
    config,
    instances,
    urls: () => instances.map((instance) => instance.url),
    services,
    servicesAt: (offsetMs) => open(() => Date.now() + offsetMs),
    async restart(index) {
      await instances[index]?.crash();
      const fresh = await startServerProcess(childConfig);
      instances[index] = fresh;
      return fresh;
    },
    async close() {
      await Promise.all(instances.map((instance) => instance.stop()));
      await Promise.all(opened.map((s) => s.db.destroy()));
      await database.drop();
    },
  };
}
