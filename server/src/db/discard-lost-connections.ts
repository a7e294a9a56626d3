import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import pg from 'pg';
import { fromDatabase } from './database-unavailable.js';

/**
 * SQLSTATEs PostgreSQL sends as FATAL, closing the session after them: class 08 (connection exception),
 * 57P01–57P05 (admin_shutdown, crash_shutdown, cannot_connect_now, database_dropped, idle_session_timeout)
 * and 25P03 (idle_in_transaction_session_timeout). By code rather than by `severity`, which is translated
 * with the server's lc_messages.
 */
const SESSION_ENDING = /^(08...|57P0[1-5]|25P03)$/;

/**
 * Whether a query's error leaves its connection unusable. A statement's own error (a constraint, a syntax
 * error, a lock or statement timeout) is a DatabaseError the session survives; everything else — FATAL
 * codes, pg's "Connection terminated unexpectedly", a socket's ECONNRESET, "Client has encountered a
 * connection error and is not queryable" — means the connection is gone, or in a state nobody can vouch for.
 */
function endsConnection(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError)) return true;
  return SESSION_ENDING.test(error.code ?? '') || error.severity === 'FATAL' || error.severity === 'PANIC';
}

/**
 * Marks every error of a connect or a query as the database's (see {@link fromDatabase}, which tells routes/errors.ts
 * a lost connection to PostgreSQL from a lost connection of a browser), and releases a connection whose query showed it lost (see {@link endsConnection}) as destroyed, so the pool
 * never hands it to the next request. pg-pool discards a client on release only once pg has marked it
 * unqueryable, which happens when the socket's end is read; when PostgreSQL sends a FATAL error (a
 * terminated backend, a shutdown) to a running query, the query fails first, and a request that releases
 * the connection at once (outside a transaction, where Kysely sends no ROLLBACK that would wait for the end)
 * put the dead connection back in the pool: the next request's query on it failed too.
 */
export function discardLostConnections(pool: PostgresPool): PostgresPool {
  // One wrapper per pooled client, as Kysely keeps one connection object per client it is given.
  const wrappers = new WeakMap<PostgresPoolClient, PostgresPoolClient>();
  const wrap = (client: PostgresPoolClient): PostgresPoolClient => {
    let lost = false;
    return {
      query: ((textOrCursor: string | object, parameters: ReadonlyArray<unknown> = []) => {
        // A cursor (Kysely's streaming, which this server never uses) is passed through untouched.
        if (typeof textOrCursor !== 'string') return client.query(textOrCursor as never);
        return (client.query(textOrCursor, parameters) as Promise<PostgresQueryResult<unknown>>).catch((error: unknown) => {
          if (endsConnection(error)) lost = true;
          throw fromDatabase(error);
        });
      }) as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy || lost),
    };
  };
  return {
    async connect() {
      const client = await pool.connect().catch((error: unknown) => {
        throw fromDatabase(error);
      });
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
