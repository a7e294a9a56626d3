// One load run with autocannon, in the driver process (the servers are child processes).
import autocannon from 'autocannon';
import type { StatementTime } from '../children/ipc.js';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  /** One URL, or several: autocannon then assigns connections to them round-robin (connection i → url i mod n). */
  urls: string[];
  connections: number;
  /** Upper bound on the run's length. */
  durationSeconds: number;
  /**
   * For single-use requests (a fresh code, a fresh assertion): the number prepared. autocannon then sends
   * exactly this many in total (split across connections), so no request is ever sent twice and none is
   * wasted; the run ends when they are used up or when the duration elapses, whichever comes first.
   */
  preparedRequests?: number;
  /** Called exactly once per request sent. */
  nextRequest: () => LoadRequest;
}

export interface LoadResult {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  requests: number;
  durationSeconds: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  /** The prepared requests were all used before the duration elapsed (the run was shorter). */
  endedByPool: boolean;
  /** With `servers`: their CPU time (user + system, all threads) per request answered during the run, µs. */
  cpuMicrosPerRequest?: number;
  /** With `servers` that time their SQLite statements: the time spent inside them per request answered, µs. */
  statementMicrosPerRequest?: number;
  /** …and those statements by SQL text (all servers together). */
  statements?: StatementTime[];
}

/** The server processes under load, when their CPU time per request is wanted. */
export interface CpuReporter {
  cpuMicros(): Promise<number>;
  /** The SQLite statements run since the last call, timed inside the server (none unless it was started to time them). */
  statementTimes?(): Promise<StatementTime[]>;
}

/** The statements the servers ran since they were last asked, merged by SQL text. */
async function takeStatementTimes(servers: readonly CpuReporter[]): Promise<StatementTime[]> {
  const merged = new Map<string, StatementTime>();
  for (const time of (await Promise.all(servers.map((server) => server.statementTimes?.() ?? []))).flat()) {
    const seen = merged.get(time.sql);
    merged.set(time.sql, seen ? { sql: time.sql, calls: seen.calls + time.calls, micros: seen.micros + time.micros } : time);
  }
  return [...merged.values()];
}

/** {@link runLoad}, with the CPU time the `servers` spent per request. */
export async function runLoadMeasured(servers: readonly CpuReporter[], options: LoadOptions): Promise<LoadResult> {
  await takeStatementTimes(servers); // start afresh: only this run's statements
  const before = await Promise.all(servers.map((server) => server.cpuMicros()));
  const result = await runLoad(options);
  const after = await Promise.all(servers.map((server) => server.cpuMicros()));
  const spent = after.reduce((sum, micros, i) => sum + micros - before[i]!, 0);
  const statements = await takeStatementTimes(servers);
  if (result.requests === 0) return result;
  const inStatements = statements.reduce((sum, time) => sum + time.micros, 0);
  return {
    ...result,
    cpuMicrosPerRequest: spent / result.requests,
    ...(statements.length > 0 ? { statementMicrosPerRequest: inStatements / result.requests, statements } : {}),
  };
}

const SETTLE_MS = 1_000;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const started = Date.now();
  let stopTimer: NodeJS.Timeout | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        // autocannon accepts an array of URLs (round-robin per connection); its type says string only.
        url: options.urls as unknown as string,
        connections: options.connections,
        pipelining: 1,
        timeout: 30,
        ...(options.preparedRequests === undefined ? { duration: options.durationSeconds } : { amount: options.preparedRequests }),
        requests: [
          {
            setupRequest: (request) => {
              const next = options.nextRequest();
              return { ...request, method: next.method, path: next.path, headers: { ...request.headers, ...next.headers }, body: next.body ?? '' };
            },
          },
        ],
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    // With `amount`, autocannon ignores `duration`; bound the run ourselves.
    if (options.preparedRequests !== undefined) stopTimer = setTimeout(() => instance.stop(), options.durationSeconds * 1000);
  });
  clearTimeout(stopTimer);
  const elapsedSeconds = (Date.now() - started) / 1000;
  // autocannon drops its sockets when time is up; give the requests the server is still working on a
  // moment to finish so the next phase (seeding, another row) starts on a quiet server.
  await new Promise((done) => setTimeout(done, SETTLE_MS));

  const statusCounts: Record<string, number> = {};
  const stats = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  for (const [status, { count }] of Object.entries(stats)) statusCounts[status] = count;
  const total = result.requests.total;
  return {
    requestsPerSecond: total / elapsedSeconds,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    requests: total,
    durationSeconds: elapsedSeconds,
    statusCounts,
    errors: result.errors,
    timeouts: result.timeouts,
    endedByPool: options.preparedRequests !== undefined && elapsedSeconds < options.durationSeconds - 0.05,
  };
}
