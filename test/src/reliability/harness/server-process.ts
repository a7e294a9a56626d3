/**
 * Real multi-instance deployments for the reliability suite: each instance is a separate Node child
 * process running the actual server as built (see server-child.mjs), so "two instances" means two event loops,
 * two connection pools and two address spaces that share nothing but the database — and an instance
 * can be killed with SIGKILL mid-request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../../../server/src/config.js';

const CHILD_ENTRY = fileURLToPath(new URL('./server-child.mjs', import.meta.url));
const SERVER_SRC = fileURLToPath(new URL('../../../../server/src/', import.meta.url));
const SERVER_BUILD = fileURLToPath(new URL('../../../../server/dist/main.js', import.meta.url));
const READY_PREFIX = 'LATCHKEY_CHILD_READY ';

/** Overrides passed to `testConfig` in the child; must be JSON-serialisable. */
export type ChildConfig = Partial<Pick<Config, 'databaseUrl' | 'secretKey' | 'rateLimits' | 'origin' | 'rpId' | 'argon2' | 'mail'>>;

export interface ServerProcess {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  pid: number;
  /** Everything the child wrote to stderr (for diagnosis; asserted free of stack traces by some suites). */
  stderr(): string;
  /** Resolves with the exit code/signal once the child is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the child exits. */
  alive(): boolean;
  /** kill -9: no cleanup, no flush, the crash the suite is about. */
  crash(): Promise<void>;
  /** Graceful stop (SIGTERM → server.close()). */
  stop(): Promise<void>;
}

/** Start one server instance in a child process and wait until it listens. */
export async function startServerProcess(config: ChildConfig, { timeoutMs = 180_000 } = {}): Promise<ServerProcess> {
  assertServerBuildIsCurrent();
  const child: ChildProcess = spawn(process.execPath, [CHILD_ENTRY], {
    env: { ...process.env, LATCHKEY_RELIABILITY_CONFIG: JSON.stringify(config), NODE_ENV: 'test' },
    // stdin is a pipe the child watches: if this process dies, the child exits instead of lingering.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  let alive = true;
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      resolve({ code, signal });
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server child did not start within ${timeoutMs} ms\nstdout:${stdout}\nstderr:${stderr}`));
    }, timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.startsWith(READY_PREFIX));
      if (line) {
        clearTimeout(timer);
        resolve(line.slice(READY_PREFIX.length).trim());
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server child exited before listening (code ${code}, signal ${signal})\nstderr:${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    stderr: () => stderr,
    exited,
    alive: () => alive,
    async crash() {
      if (alive) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

let buildChecked = false;

/**
 * The children run server/dist (see server-child.mjs): a build older than any server source would test
 * yesterday's server, so say how to rebuild instead.
 */
function assertServerBuildIsCurrent(): void {
  if (buildChecked) return;
  let built: number;
  try {
    built = statSync(SERVER_BUILD).mtimeMs;
  } catch {
    throw new Error('The reliability suite runs the built server, and server/dist/main.js is missing: run `npm run build` first (npm test does).');
  }
  // Every file but the tests (a test file changes no build).
  const newer = readdirSync(SERVER_SRC, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !/\.test\.tsx?$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .find((file) => statSync(file).mtimeMs > built);
  if (newer) throw new Error(`server/dist is older than ${newer}: run \`npm run build\` first (npm test does) — the reliability suite runs the built server.`);
  buildChecked = true;
}
