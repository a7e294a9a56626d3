// Starts a bench server entry point (children/*.ts) as its own Node process, so the load generator in
// the driver and the server under test never share an event loop or a CPU core by accident.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, DriverMessage, EventLoopDelayStats, StatementTime } from '../children/ipc.js';

export interface ServerProcess {
  url: string;
  pid: number;
  /** Starts measuring event-loop delay inside the child. */
  startEventLoopDelay(): void;
  stopEventLoopDelay(): Promise<EventLoopDelayStats>;
  /** CPU time the server process has used so far (user + system, all its threads), µs. */
  cpuMicros(): Promise<number>;
  /** SQLite statements run since the last call, timed inside the child (started with BENCH_STATEMENT_TIMES=1). */
  statementTimes(): Promise<StatementTime[]>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Extra environment for the child (merged over process.env). */
  env?: Record<string, string>;
  /** Write a V8 CPU profile of the child into this directory (node --cpu-prof). */
  cpuProfileDir?: string;
  label: string;
}

const READY_TIMEOUT_MS = 60_000;
const { threadPoolSize: serverThreadPoolSize } = createRequire(import.meta.url)('../../../server/bin/latchkey-server.cjs') as { threadPoolSize(): number };
const SERVER_TSCONFIG = fileURLToPath(new URL('../../../server/tsconfig.json', import.meta.url));

export async function spawnServer(entry: 'hello-server' | 'express-hello-server' | 'latchkey-server', options: SpawnOptions): Promise<ServerProcess> {
  const script = fileURLToPath(new URL(`../children/${entry}.ts`, import.meta.url));
  const execArgv = ['--import', 'tsx'];
  if (options.cpuProfileDir) {
    // One directory per child: Node writes a profile per thread (tsx's loader runs in its own), named
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile — thread 0 is the server's main thread.
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}/${options.label}`);
  }
  // The Latchkey server runs with the thread pool its own entry point (server/bin/latchkey-server.cjs) gives
  // it in production; the hellos keep Node's default (they never use the pool).
  const threadPool = entry === 'latchkey-server' && !process.env.UV_THREADPOOL_SIZE ? { UV_THREADPOOL_SIZE: String(serverThreadPoolSize()) } : {};
  const child: ChildProcess = fork(script, [], {
    execArgv,
    // The server's views are Preact TSX: tsx must compile them with the server's JSX settings.
    env: { ...process.env, TSX_TSCONFIG_PATH: SERVER_TSCONFIG, ...threadPool, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.label}: no "ready" within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    const onMessage = (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(message.url);
      } else if (message.type === 'fatal') {
        clearTimeout(timer);
        reject(new Error(`${options.label} failed to start:\n${message.message}`));
      }
    };
    child.on('message', onMessage);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.label} exited with code ${code} before it was ready`));
    });
  });

  const send = (message: DriverMessage) => child.send(message);
  /** One request–reply over IPC: send `request`, resolve with the child's next message of type `reply`. */
  const ask = <T extends ChildMessage['type']>(request: DriverMessage['type'], reply: T, what: string) =>
    new Promise<Extract<ChildMessage, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.label}: no ${what}`)), 10_000);
      const onMessage = (message: ChildMessage) => {
        if (message.type !== reply) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(message as Extract<ChildMessage, { type: T }>);
      };
      child.on('message', onMessage);
      send({ type: request } as DriverMessage);
    });
  return {
    url,
    pid: child.pid ?? -1,
    startEventLoopDelay: () => send({ type: 'eld-start' }),
    stopEventLoopDelay: () => ask('eld-stop', 'eld', 'event-loop report').then((message) => message.stats),
    cpuMicros: () => ask('cpu', 'cpu', 'CPU report').then((message) => message.micros),
    statementTimes: () => ask('statements', 'statements', 'statement times').then((message) => message.times),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      send({ type: 'shutdown' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
