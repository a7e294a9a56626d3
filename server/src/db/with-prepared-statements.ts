import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/**
 * Distinct texts given a name; the server has about a hundred query shapes (an `in (…)` list adds one per
 * length). Past this, texts go unnamed, so neither this map nor any connection's statements grow unbounded.
 */
const MAX_NAMED_TEXTS = 1024;

/** SQLSTATE 0A000 with this text: a kept plan's columns changed under it (another instance migrated). */
const STALE_PLAN = /cached plan must not change result type/;

/**
 * PostgreSQL parses and plans every query Kysely sends (it sends SQL text and values, unnamed). The same
 * query shape always compiles to the same SQL text, so each parameterised text is sent as a named
 * prepared statement: parsed once per connection, then only bound and executed. On the two cores of a
 * small host, the database's parse-and-plan CPU is CPU the server does not get (issue 16).
 *
 * Statements without parameters (BEGIN, COMMIT, migrations' DDL) stay unnamed: node-postgres sends those
 * with the simple protocol, which also allows several statements in one text.
 *
 * A pooler between the server and PostgreSQL that hands a session's connection to other clients between
 * transactions (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`) cannot
 * keep named statements: `DATABASE_URL=…?prepare=off` sends every query unnamed, as Kysely does.
 *
 * A kept plan whose table another instance altered meanwhile (a rolling upgrade's migration) fails once
 * with "cached plan must not change result type": that text then gets a new name (a fresh parse on every
 * connection) and the query is run again, unnamed. Inside a transaction the retry fails too (PostgreSQL
 * aborted it) and the caller sees that error, as with any failed statement.
 */
export function withPreparedStatements(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  const generations = new Map<string, number>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (!name) {
      if (names.size >= MAX_NAMED_TEXTS) return undefined;
      const generation = generations.get(text) ?? 0;
      name = `lk_${createHash('sha256').update(`${generation}\0${text}`).digest('hex').slice(0, 32)}`;
      names.set(text, name);
    }
    return name;
  };
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    const query = async (text: string, parameters: ReadonlyArray<unknown>) => {
      const values = [...parameters];
      const name = values.length === 0 ? undefined : nameOf(text);
      if (name === undefined) return client.query(text, values);
      try {
        return await client.query({ name, text, values });
      } catch (error) {
        if (!(error instanceof Error && STALE_PLAN.test(error.message))) throw error;
        names.delete(text);
        generations.set(text, (generations.get(text) ?? 0) + 1);
        return client.query(text, values);
      }
    };
    return {
      // Kysely's pool client signature is overloaded (text + values, or a cursor); only its streaming uses
      // a cursor, which this server never does, so a cursor is passed through untouched.
      query: ((textOrCursor: string | object, parameters: ReadonlyArray<unknown> = []) =>
        typeof textOrCursor === 'string'
          ? (query(textOrCursor, parameters) as Promise<PostgresQueryResult<unknown>>)
          : client.query(textOrCursor as never)) as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy),
    };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}
