import { afterAll, beforeAll } from 'vitest';
import type { Kysely } from 'kysely';
import { type Config, testConfig } from '../config.js';
import { migrateToLatest } from '../db/migrate.js';
import { openDatabase } from '../db/open-database.js';
import type { Database } from '../db/schema.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { createServices, type Services } from '../services/index.js';

/** A settable clock for tests. */
export interface TestClock {
  (): number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function createTestClock(start = Date.UTC(2026, 0, 1, 12, 0, 0)): TestClock {
  let time = start;
  const clock = (() => time) as TestClock;
  clock.set = (ms) => {
    time = ms;
  };
  clock.advance = (ms) => {
    time += ms;
  };
  return clock;
}

export interface ServiceHarness {
  services: Services;
  db: Kysely<Database>;
  config: Config;
  clock: TestClock;
  close(): Promise<void>;
}

/** Services over a throw-away, migrated database of the given dialect, with a controllable clock. */
export async function createServiceHarness(dialect: 'sqlite' | 'postgres', overrides: Partial<Config> = {}): Promise<ServiceHarness> {
  const database = await createTestDatabaseUrl(dialect);
  const config = testConfig({ databaseUrl: database.databaseUrl, ...overrides });
  const db = openDatabase(config.databaseUrl);
  await migrateToLatest(db);
  const clock = createTestClock();
  const services = createServices(db, config, { now: clock });
  return {
    services,
    db,
    config,
    clock,
    async close() {
      await db.destroy();
      await database.drop();
    },
  };
}

export const DIALECTS = ['sqlite', 'postgres'] as const;

/**
 * {@link createServiceHarness} for the enclosing `describe`: created before its tests (handed to `onCreated`, which
 * keeps it in the suite's `h` variable) and closed, its database dropped, after them — as `useTestServer` does
 * for a whole server.
 */
export function useServiceHarness(dialect: 'sqlite' | 'postgres', onCreated: (harness: ServiceHarness) => void, overrides: Partial<Config> = {}): void {
  let harness: ServiceHarness | undefined;
  beforeAll(async () => {
    harness = await createServiceHarness(dialect, overrides);
    onCreated(harness);
  });
  afterAll(async () => {
    await harness?.close();
  });
}

/**
 * A second server instance over `h`'s database, as a deployment runs them: its own connection (pool) to the same
 * database, the same secret key, the same clock. `close` ends its connection; the database stays `h`'s.
 */
export function secondInstance(h: ServiceHarness): { services: Services; close(): Promise<void> } {
  const db = openDatabase(h.config.databaseUrl);
  return { services: createServices(db, h.config, { now: h.clock }), close: () => db.destroy() };
}

/** {@link useServiceHarness} with a {@link secondInstance} beside it, for the suites that check limits hold across instances. */
export function useTwoInstances(
  dialect: 'sqlite' | 'postgres',
  onCreated: (harness: ServiceHarness, other: Services) => void,
  overrides: Partial<Config> = {},
): void {
  let harness: ServiceHarness | undefined;
  let other: ReturnType<typeof secondInstance> | undefined;
  beforeAll(async () => {
    harness = await createServiceHarness(dialect, overrides);
    other = secondInstance(harness);
    onCreated(harness, other.services);
  });
  afterAll(async () => {
    await other?.close();
    await harness?.close();
  });
}
