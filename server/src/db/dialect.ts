import { type Kysely, PostgresAdapter } from 'kysely';

/** True when `db` talks to PostgreSQL (the few places where SQL differs by dialect ask this). */
export function isPostgres<DB>(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
