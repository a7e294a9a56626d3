import { type DatabaseIntrospector, type Kysely, PostgresDialect, type TableMetadata, sql } from 'kysely';

/**
 * PostgreSQL dialect whose introspector sees only the connection's current schema.
 *
 * Kysely's own introspector reads the columns of every schema and calls `pg_get_serial_sequence()`
 * on each table; when another process drops a schema during that query (parallel test runs, each
 * with a throw-away schema), PostgreSQL raises `schema … does not exist` and our migration fails.
 * The Migrator only asks whether its two bookkeeping tables exist, so names from
 * `information_schema.tables` in `current_schema()` are all it needs; columns are left empty.
 */
export class CurrentSchemaPostgresDialect extends PostgresDialect {
  // Kysely's own signature takes Kysely<any>; the introspector is schema-agnostic by nature.
  // biome-ignore lint/suspicious/noExplicitAny: the overridden method's signature is Kysely's.
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    const getTables = async (): Promise<TableMetadata[]> => {
      const { rows } = await sql<{ schema: string; name: string; is_view: boolean }>`
        select table_schema as schema, table_name as name, table_type = 'VIEW' as is_view
        from information_schema.tables
        where table_schema = current_schema()`.execute(db);
      return rows.map((row) => ({ schema: row.schema, name: row.name, isView: row.is_view, columns: [] }));
    };
    return {
      getSchemas: async () => (await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(db)).rows,
      getTables,
      getMetadata: async () => ({ tables: await getTables() }),
    };
  }
}
