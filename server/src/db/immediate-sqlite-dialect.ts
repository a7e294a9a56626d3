import { CompiledQuery, type DatabaseConnection, SqliteDialect, type SqliteDialectConfig, SqliteDriver } from 'kysely';

/**
 * Kysely's SQLite dialect, with every transaction begun IMMEDIATE. Kysely begins them DEFERRED: such a
 * transaction takes the write lock only at its first write, and when another process (a second instance,
 * the admin CLI) holds that lock then, or has written since the transaction's first read, SQLite refuses
 * the write at once with SQLITE_BUSY — its busy handler is not called where waiting could deadlock — so a
 * request that reads before it writes (most of ours: check, then change) failed beside another writer,
 * whatever the busy timeout. Begun IMMEDIATE, a transaction takes the lock first and waits the busy timeout
 * for it, like a single statement. Within one process nothing changes: Kysely runs one SQLite connection,
 * one transaction at a time.
 */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
