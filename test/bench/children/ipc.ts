// The bench-only side channel between the driver and a server child: "ready" with the URL, event-loop
// delay measured inside the child on request, and an orderly shutdown. It lives in test/bench and is
// loaded only by the bench's child entry points, so the product gains no endpoint or hook.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { takeStatementTimes } from './statement-times.js';

export type DriverMessage = { type: 'eld-start' } | { type: 'eld-stop' } | { type: 'cpu' } | { type: 'statements' } | { type: 'shutdown' };

/** One SQL text's executions inside the child since the last report (see statement-times.ts). */
export interface StatementTime {
  sql: string;
  calls: number;
  /** Time inside better-sqlite3 (SQLite itself, and the binding's argument and row conversion), µs in all. */
  micros: number;
}

export interface EventLoopDelayStats {
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
  mean: number;
  samples: number;
}

export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'eld'; stats: EventLoopDelayStats }
  /** CPU time the child process has used so far (user + system, all threads), in microseconds. */
  | { type: 'cpu'; micros: number }
  | { type: 'statements'; times: StatementTime[] }
  | { type: 'fatal'; message: string };

function send(message: ChildMessage): void {
  process.send?.(message);
}

export function reportReady(url: string): void {
  send({ type: 'ready', url });
}

export function reportFatal(error: unknown): never {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  send({ type: 'fatal', message });
  console.error(message);
  process.exit(1);
}

/** Answers the driver's messages; `close` stops the server before the process exits (so --cpu-prof is written). */
export function serveDriverMessages(close: () => Promise<void>): void {
  let histogram: IntervalHistogram | undefined;
  const toMs = (ns: number) => ns / 1e6;
  process.on('message', (message: DriverMessage) => {
    switch (message.type) {
      case 'eld-start':
        // 10 ms resolution: fine enough to see a blocked loop, coarse enough to cost nothing.
        histogram = monitorEventLoopDelay({ resolution: 10 });
        histogram.enable();
        break;
      case 'eld-stop': {
        if (!histogram) break;
        histogram.disable();
        send({
          type: 'eld',
          stats: {
            p50: toMs(histogram.percentile(50)),
            p99: toMs(histogram.percentile(99)),
            max: toMs(histogram.max),
            mean: toMs(histogram.mean),
            samples: histogram.count,
          },
        });
        histogram = undefined;
        break;
      }
      case 'cpu': {
        const usage = process.cpuUsage();
        send({ type: 'cpu', micros: usage.user + usage.system });
        break;
      }
      case 'statements':
        send({ type: 'statements', times: takeStatementTimes() });
        break;
      case 'shutdown':
        close().then(
          () => process.exit(0),
          (error: unknown) => reportFatal(error),
        );
        break;
    }
  });
  // The driver died: do not linger as an orphan holding a port.
  process.on('disconnect', () => process.exit(0));
}
