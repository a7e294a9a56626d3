import { describe, expect, it } from 'vitest';
import { devBanner, type DevBannerOptions } from './dev-banner.js';

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
});
