import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file holding the pid of the `npm run dev` that owns a dev directory. */
const OWNER_FILE = 'dev-server.pid';

/**
 * Empties the dev directory for a new `npm run dev` and marks it as this process's, unless another
 * running `npm run dev` owns it: a second start (a second terminal, the same checkout) used to wipe the
 * running server's database and seed file before failing on the port, leaving it serving a deleted
 * database and `npm run admin -- code` refusing. Returns `release()`, which removes the mark (at Ctrl+C).
 */
export function claimDevDirectory(directory: string, pid: number = process.pid): { release(): void } {
  const ownerFile = join(directory, OWNER_FILE);
  const owner = readOwner(ownerFile);
  if (owner !== null && owner !== pid && isRunning(owner)) {
    throw new Error(
      `another npm run dev (pid ${owner}) is using ${directory}; stop it first (Ctrl+C in its terminal), or give this one ` +
        `its own LATCHKEY_DEV_DIR and PORT. (If no such server runs, delete ${ownerFile}.)`,
    );
  }
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  writeFileSync(ownerFile, `${pid}\n`, { mode: 0o600 });
  return {
    release() {
      if (readOwner(ownerFile) === pid) rmSync(ownerFile, { force: true });
    },
  };
}

function readOwner(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Signal 0 checks that the process exists without touching it; EPERM means it exists under another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
