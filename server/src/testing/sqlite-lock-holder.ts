import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * SQLite's write lock on `file`, held by another process (as another server instance or the admin CLI holds it
 * while it writes) until `releaseAfterMs` has passed, then rolled back. Resolves once the lock is taken. Another
 * process, because a wait for the lock blocks this one's thread: a holder in it could never let go.
 */
export async function sqliteLockHeldByAnotherProcess(file: string, releaseAfterMs: number): Promise<ChildProcess> {
  const script = [
    'const db = new (require(process.argv[3]))(process.argv[1]);',
    "db.exec('begin immediate');",
    "process.stdout.write('holding\\n');",
    "setTimeout(() => { db.exec('rollback'); db.close(); }, Number(process.argv[2]));",
  ].join('\n');
  // The better-sqlite3 this file uses, wherever the child starts.
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const child = spawn(process.execPath, ['-e', script, file, String(releaseAfterMs), module], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before it held the lock`)));
    child.stdout!.once('data', () => resolve());
  });
  return child;
}
