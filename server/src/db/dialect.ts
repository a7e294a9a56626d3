import { type Kysely, PostgresAdapter } from 'kysely';

/** True when `db` talks to PostgreSQL (the few places where SQL differs by dialect ask this). */
export function isPostgres(db: Kysely<unknown> | Kysely<never>): boolean {
  return (db as Kysely<unknown>).getExecutor().adapter instanceof PostgresAdapter;
}
