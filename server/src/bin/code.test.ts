import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionClient } from '../../../test/src/kit/create-session-client.js';
import { createUserIn } from '../../../test/src/kit/create-user-in.js';
import { startTestServer, type TestServer } from '../../../test/src/kit/start-test-server.js';
import { runAdmin } from './admin.js';
import type { DevSeedFile } from './code.js';

describe('admin code <username>', () => {
  let server: TestServer;
  let dir: string;
  let seedFile: string;
  let seed: DevSeedFile;

  beforeAll(async () => {
    server = await startTestServer({ dialect: 'sqlite' });
    dir = mkdtempSync(join(tmpdir(), 'latchkey-code-test-'));
    seedFile = join(dir, 'dev-users.json');
    const tom = await createUserIn(server, 'totp', { username: 'tom' });
    const nadia = await createUserIn(server, 'no-2fa', { username: 'nadia' });
    seed = {
      databaseUrl: server.config.databaseUrl,
      origin: server.url,
      createdAt: new Date().toISOString(),
      users: [
        { state: tom.state, username: tom.username, password: tom.password, totpSecret: tom.totpSecret! },
        { state: nadia.state, username: nadia.username, password: nadia.password },
      ],
    };
    writeFileSync(seedFile, JSON.stringify(seed));
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `config` null: as from the command line, the configuration read from the environment. */
  async function run(args: string[], config: TestServer['config'] | null = server.config) {
    const out: string[] = [];
    const err: string[] = [];
    const exitCode = await runAdmin(
      args,
      { stdout: (line) => out.push(line), stderr: (line) => err.push(line), readStdin: async () => '' },
      config ?? undefined,
    );
    return { exitCode, out: out.join('\n'), err: err.join('\n') };
  }

  it('prints a code the server accepts at the two-factor step', async () => {
    const { exitCode, out } = await run(['code', 'tom', '--seed-file', seedFile]);
    expect(exitCode).toBe(0);
    const code = /^(\d{6}) {2}\(tom; valid for \d+ more seconds?\)$/.exec(out)?.[1];
    expect(code).toBeDefined();
    const client = createSessionClient(server.url);
    const login = await client.submit(ROUTES.login, { [FIELDS.username]: 'tom', [FIELDS.password]: seed.users[0]!.password });
    const done = await client.submit(login.location!, { [FIELDS.totpValue]: code! });
    expect(new URL(done.location!).pathname).toBe(ROUTES.manageAccount);
  });

  it('refuses users without TOTP, unknown users, other databases and production', async () => {
    expect(await run(['code', 'nadia', '--seed-file', seedFile])).toMatchObject({ exitCode: 1, err: expect.stringContaining('has no authentication app') });
    expect(await run(['code', 'zed', '--seed-file', seedFile])).toMatchObject({ exitCode: 1, err: expect.stringContaining('is not a seeded user') });
    expect(await run(['code', 'tom', '--seed-file', join(dir, 'missing.json')])).toMatchObject({
      exitCode: 1,
      err: expect.stringContaining('No dev seed file'),
    });
    // Where a dev server with its own directory keeps it (the default directory is not the only one).
    expect((await run(['code', 'tom', '--seed-file', join(dir, 'missing.json')])).err).toContain('give this command the same LATCHKEY_DEV_DIR');
    const other = { ...server.config, databaseUrl: `sqlite:${join(dir, 'other.db')}` };
    expect(await run(['code', 'tom', '--seed-file', seedFile], other)).toMatchObject({
      exitCode: 1,
      err: expect.stringContaining('was not seeded by `npm run dev`'),
    });
    expect(await run(['code', 'tom', '--seed-file', seedFile], { ...server.config, production: true })).toMatchObject({
      exitCode: 1,
      err: expect.stringContaining('does not run with NODE_ENV=production'),
    });
    expect(await run(['code', '--seed-file', seedFile])).toMatchObject({ exitCode: 1, err: expect.stringContaining('exactly one username') });
  });

  it('run as documented (no DATABASE_URL, no key): uses the seed file’s database and writes nothing in the user’s directories', async () => {
    const home = mkdtempSync(join(tmpdir(), 'latchkey-code-home-'));
    const saved = { ...process.env };
    try {
      for (const name of ['DATABASE_URL', 'LATCHKEY_SECRET_KEY', 'NODE_ENV']) delete process.env[name];
      Object.assign(process.env, { XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') });
      const missing = await run(['code', 'tom', '--seed-file', join(dir, 'missing.json')], null);
      expect(missing).toMatchObject({ exitCode: 1, err: expect.stringContaining('No dev seed file') });
      const found = await run(['code', 'tom', '--seed-file', seedFile], null);
      expect(found.exitCode).toBe(0);
      expect(found.out).toMatch(/^\d{6} {2}\(tom; valid for/);
      // Before: the default configuration was read first — a database and a secret key made under XDG_* — then refused.
      expect(readdirSync(home)).toEqual([]);
      process.env.DATABASE_URL = `sqlite:${join(dir, 'other.db')}`;
      expect(await run(['code', 'tom', '--seed-file', seedFile], null)).toMatchObject({
        exitCode: 1,
        err: expect.stringContaining('was not seeded by `npm run dev`'),
      });
      expect(readdirSync(home)).toEqual([]);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('under NODE_ENV=production says the dev seed does not exist there and what to use instead (not "No dev seed file")', async () => {
    const home = mkdtempSync(join(tmpdir(), 'latchkey-code-home-'));
    const saved = { ...process.env };
    try {
      for (const name of ['DATABASE_URL', 'LATCHKEY_SECRET_KEY']) delete process.env[name];
      Object.assign(process.env, { NODE_ENV: 'production', XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') });
      for (const args of [
        ['code', 'tom'],
        ['code', 'tom', '--seed-file', seedFile],
      ]) {
        const refused = await run(args, null);
        expect(refused.exitCode, args.join(' ')).toBe(1);
        expect(refused.err).not.toContain('No dev seed file');
        expect(refused.err).toContain('does not exist in production');
        expect(refused.err).toContain('reset-2fa --username NAME');
      }
      // A variant of production is refused as the server refuses it (a configuration error, exit 2).
      process.env.NODE_ENV = 'Production';
      expect(await run(['code', 'tom', '--seed-file', seedFile], null)).toMatchObject({
        exitCode: 2,
        err: expect.stringContaining('write exactly NODE_ENV=production'),
      });
      expect(readdirSync(home)).toEqual([]);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
