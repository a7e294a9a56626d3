import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testConfig } from './config.js';
import { describeDatabaseUrl, describeListenFailure, startServer } from './main.js';

describe('describeListenFailure', () => {
  it('names HOST and PORT when the server cannot listen (a bad HOST printed only "getaddrinfo ENOTFOUND …")', async () => {
    const config = testConfig({ host: 'no-such-host.invalid', port: 0 });
    const failure = await startServer(config).then(
      async (server) => {
        await server.close();
        throw new Error('listened on a host that does not exist');
      },
      (error: unknown) => error,
    );
    expect(describeListenFailure(failure, config)).toMatch(/^cannot listen on no-such-host\.invalid:0 \(HOST and PORT set it\): getaddrinfo ENOTFOUND/);
  });

  it('keeps any other failure as it is', () => {
    expect(describeListenFailure(new Error('unable to open database file'), testConfig())).toBe('unable to open database file');
  });
});

describe('describeDatabaseUrl (the start-up line’s database)', () => {
  it('keeps a PostgreSQL URL’s schema, so two servers on one database can be told apart, and never its password', () => {
    const shown = describeDatabaseUrl('postgres://alice:s3cret-pw@db.example:5432/latchkey?schema=lk_blue&prepare=off');
    expect(shown).toBe('postgres://alice@db.example:5432/latchkey?schema=lk_blue');
    expect(describeDatabaseUrl('postgresql://db.example/latchkey?schema=lk_green')).toBe('postgresql://db.example/latchkey?schema=lk_green');
  });

  it('shows no other query parameter (one may carry a password) and no schema when there is none', () => {
    expect(describeDatabaseUrl('postgres://alice@db.example/latchkey?password=s3cret-pw&sslmode=require')).toBe('postgres://alice@db.example/latchkey');
    expect(describeDatabaseUrl('sqlite:/var/lib/latchkey/latchkey.db')).toBe('sqlite:/var/lib/latchkey/latchkey.db');
  });
});

/** Runs the server's command-line entry (this source, through tsx) until it exits or 30 s pass. */
function startFromCommandLine(env: Record<string, string>): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = Date.now();
  const home = mkdtempSync(path.join(tmpdir(), 'latchkey-main-home-'));
  try {
    const result = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./main.ts', import.meta.url))], {
      cwd: fileURLToPath(new URL('../', import.meta.url)),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        PORT: '0',
        LATCHKEY_ORIGIN: 'http://localhost:1',
        LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64url'),
        ...env,
      },
      encoding: 'utf8',
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

describe('start-up with a DATABASE_URL that cannot hold a database', () => {
  // Node's recursive mkdir loops for ever on a missing directory under /proc (mkdir answers ENOENT there,
  // which it takes for a missing parent): the server hung at start-up, printing nothing.
  it.skipIf(process.platform !== 'linux')(
    'exits non-zero at once under /proc, naming DATABASE_URL, with no stack trace',
    () => {
      const run = startFromCommandLine({ DATABASE_URL: 'sqlite:/proc/latchkey-no-such-dir/latchkey.db' });
      expect(run.status, `still running after ${run.ms} ms (killed); stderr: ${run.stderr}`).toBe(1);
      expect(run.stderr).toContain('DATABASE_URL');
      expect(run.stderr).toContain('/proc/latchkey-no-such-dir');
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(run.stdout).not.toContain('listening');
    },
    40_000,
  );

  it('names DATABASE_URL when the path is below a file (it used to say only "ENOTDIR … latchkey-secret.key")', () => {
    const run = startFromCommandLine({ DATABASE_URL: `sqlite:${fileURLToPath(import.meta.url)}/latchkey.db`, LATCHKEY_SECRET_KEY: '' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/DATABASE_URL .*main\.test\.ts\/latchkey\.db/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 40_000);
});
