// Bench-only: time every SQLite statement the server child runs, by SQL text, so a request's database work
// can be told apart from everything around it (profile-row.ts --statements). better-sqlite3 runs a statement
// synchronously on the calling thread, so the time around its call is that statement's whole cost in the
// process: SQLite's own work plus the binding's conversion of arguments and rows. The product is unchanged:
// the wrapping is done here, on the prototype every prepared statement shares, before the server is loaded.
import type SQLite from 'better-sqlite3';
import type { StatementTime } from './ipc.js';

const times = new Map<string, { calls: number; nanos: bigint }>();

const EXECUTING_METHODS = ['all', 'get', 'run'] as const;

/** Start timing; call before the server opens its database. (Loaded here only: the hello servers never load SQLite.) */
export async function timeStatements(): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  const probe = new Database(':memory:');
  const prototype = Object.getPrototypeOf(probe.prepare('select 1')) as SQLite.Statement;
  probe.close();
  for (const method of EXECUTING_METHODS) {
    const original = prototype[method] as (this: SQLite.Statement, ...parameters: unknown[]) => unknown;
    Object.defineProperty(prototype, method, {
      configurable: true,
      writable: true,
      value(this: SQLite.Statement, ...parameters: unknown[]) {
        const started = process.hrtime.bigint();
        try {
          return original.apply(this, parameters);
        } finally {
          const elapsed = process.hrtime.bigint() - started;
          const entry = times.get(this.source);
          if (entry) {
            entry.calls++;
            entry.nanos += elapsed;
          } else {
            times.set(this.source, { calls: 1, nanos: elapsed });
          }
        }
      },
    });
  }
}

/** The statements timed since the last call (none unless {@link timeStatements} ran), and start afresh. */
export function takeStatementTimes(): StatementTime[] {
  const taken = [...times].map(([sql, { calls, nanos }]) => ({ sql, calls, micros: Number(nanos) / 1_000 }));
  times.clear();
  return taken;
}
