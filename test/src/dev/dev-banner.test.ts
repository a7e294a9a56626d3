import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_EXTENSION_PATH } from '../kit/launch-browser-with-extension.js';
import { DEV_EXTENSION_BUILD, devBanner, type DevBannerOptions } from './dev-banner.js';

const base: DevBannerOptions = {
  origin: 'http://localhost:8080',
  databaseUrl: 'sqlite:/tmp/latchkey-dev/latchkey.db',
  dialect: 'sqlite',
  password: 'dev-only-password',
  users: [{ username: 'tom', situation: 'authentication app (TOTP) only' }],
  mailDestination: 'files in /tmp/latchkey-dev/mail',
  adminCommand: 'npm run admin -- code tom',
  seedFile: '/tmp/latchkey-dev/dev-users.json',
  directory: '/tmp/latchkey-dev',
  withExtension: true,
};

describe('devBanner', () => {
  it('names the throw-away PostgreSQL schema, so two dev servers can be told apart, and never the password in the URL', () => {
    const banner = devBanner({ ...base, dialect: 'postgres', databaseUrl: 'postgres://postgres:s3cret@127.0.0.1:5432/test?schema=lk_test_0a1b2c3d4e5f' });
    expect(banner).toContain('Latchkey dev server: http://localhost:8080  (database postgres://postgres@127.0.0.1:5432/test?schema=lk_test_0a1b2c3d4e5f)');
    expect(banner).not.toContain('s3cret');
    expect(banner).toContain('drops the PostgreSQL schema');
  });

  it('names the SQLite file, and what is wiped at the next start', () => {
    const banner = devBanner(base);
    expect(banner).toContain('(database sqlite:/tmp/latchkey-dev/latchkey.db)');
    expect(banner).toContain('  tom    authentication app (TOTP) only');
    expect(banner).toContain('/tmp/latchkey-dev (database, mail, seeded secrets) is wiped at the next start.');
  });

  it('names the extension build it watches, which is not the one the journeys load (a rebuild empties its folder first)', () => {
    const extensionDir = fileURLToPath(new URL('../../../extension', import.meta.url));
    expect(devBanner(base)).toContain(`Extension: load extension/${DEV_EXTENSION_BUILD} unpacked`);
    expect(join(extensionDir, DEV_EXTENSION_BUILD)).not.toBe(DEFAULT_EXTENSION_PATH);
    expect(devBanner({ ...base, withExtension: false })).not.toContain('Extension:');
  });
});
