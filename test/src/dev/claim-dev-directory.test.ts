import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimDevDirectory } from './claim-dev-directory.js';

/** The pid of a process that has exited (a dev server that crashed without releasing its directory). */
function exitedPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('claimDevDirectory', () => {
  let root: string;
  let directory: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'latchkey-dev-claim-'));
    directory = join(root, 'latchkey-dev');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('refuses, and leaves everything as it was, while another running npm run dev owns the directory', () => {
    // This test's own process stands for the running dev server; the new one has another pid.
    const running = claimDevDirectory(directory);
    writeFileSync(join(directory, 'dev-users.json'), '{}');
    expect(() => claimDevDirectory(directory, process.pid + 1_000_000)).toThrow(
      new RegExp(`^another npm run dev \\(pid ${process.pid}\\) is using ${directory}; stop it first .*LATCHKEY_DEV_DIR and PORT`),
    );
    expect(readdirSync(directory).sort()).toEqual(['dev-server.pid', 'dev-users.json']);
    running.release();
    expect(existsSync(join(directory, 'dev-server.pid'))).toBe(false);
  });

  it('wipes a directory whose owner has exited (or that has none) and marks it with the new pid', () => {
    mkdirSync(directory);
    writeFileSync(join(directory, 'dev-server.pid'), `${exitedPid()}\n`);
    writeFileSync(join(directory, 'latchkey.db'), 'old');
    claimDevDirectory(directory, 4242);
    expect(readdirSync(directory)).toEqual(['dev-server.pid']);
    expect(readFileSync(join(directory, 'dev-server.pid'), 'utf8')).toBe('4242\n');
    rmSync(directory, { recursive: true });
    claimDevDirectory(directory, 4243);
    expect(readFileSync(join(directory, 'dev-server.pid'), 'utf8')).toBe('4243\n');
  });
});
