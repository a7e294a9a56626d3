import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DevSeedFile } from '../../../server/src/bin/code.js';
import { readDevSeed } from './read-dev-seed.js';

const SEED: DevSeedFile = {
  databaseUrl: 'sqlite:/tmp/somewhere/latchkey.db',
  origin: 'http://localhost:18080',
  createdAt: '2026-11-30T12:00:00.000Z',
  users: [
    { state: 'totp', username: 'tom', password: 'dev-only-password', totpSecret: 'JBSWY3DPEHPK3PXP' },
    {
      state: 'key',
      username: 'kim',
      password: 'dev-only-password',
      securityKey: { credentialId: 'AAEC', rpId: 'localhost', userHandle: 'dXNlcg', privateKeyPkcs8: 'MIGH' },
    },
  ],
};

describe('readDevSeed', () => {
  let directory: string;
  let saved: string | undefined;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'latchkey-dev-seed-'));
    saved = process.env.LATCHKEY_DEV_DIR;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.LATCHKEY_DEV_DIR;
    else process.env.LATCHKEY_DEV_DIR = saved;
    rmSync(directory, { recursive: true, force: true });
  });

  it('reads the seed file of the dev directory it is given, or of LATCHKEY_DEV_DIR, as npm run dev chooses it', () => {
    writeFileSync(join(directory, 'dev-users.json'), JSON.stringify(SEED));
    const given = readDevSeed({ directory });
    expect(given.file).toBe(join(directory, 'dev-users.json'));
    expect(given.origin).toBe('http://localhost:18080');
    expect(given.user('kim').securityKey).toEqual(SEED.users[1]!.securityKey);
    expect(given.user('tom').totpSecret).toBe('JBSWY3DPEHPK3PXP');
    process.env.LATCHKEY_DEV_DIR = directory;
    expect(readDevSeed().users.map((user) => user.username)).toEqual(['tom', 'kim']);
  });

  it('says to start the dev server when there is no seed file, and names the seeded users for an unknown one', () => {
    expect(() => readDevSeed({ directory: join(directory, 'missing') })).toThrow(
      /^readDevSeed: no dev seed file at .*missing\/dev-users\.json \(ENOENT\)\. Start the dev server first \(`npm run dev`\) with the same LATCHKEY_DEV_DIR\./,
    );
    writeFileSync(join(directory, 'dev-users.json'), JSON.stringify(SEED));
    expect(() => readDevSeed({ directory }).user('alex')).toThrow(/no seeded user "alex" in .*; the dev server seeded tom, kim\./);
  });
});
