import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { adminCodeCommand } from './admin-code-command.js';

/** What a shell makes of the printed line's assignments (the command itself replaced by `env`). */
function environmentOf(line: string): Record<string, string> {
  const script = line.replace(' npm run admin -- code tom', ' env');
  const output = execFileSync('sh', ['-c', script], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
  return Object.fromEntries(
    output
      .trim()
      .split('\n')
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

describe('the admin command the dev server prints', () => {
  it('passes LATCHKEY_DEV_DIR on when the dev server was given one, so the CLI reads this server’s seed file', () => {
    const line = adminCodeCommand({ databaseUrl: 'sqlite:/work/dev dir/latchkey.db', secretKeyFile: '/dev/null', devDirectory: "/work/dev dir/it's" });
    expect(line).toMatch(/^LATCHKEY_DEV_DIR=.* npm run admin -- code tom$/);
    const env = environmentOf(line);
    expect(env.LATCHKEY_DEV_DIR).toBe("/work/dev dir/it's");
    expect(env.DATABASE_URL).toBe('sqlite:/work/dev dir/latchkey.db');
  });

  it('stays short with the default directory, and keeps a PostgreSQL URL intact', () => {
    const databaseUrl = 'postgres://postgres@127.0.0.1:5432/test?schema=lk_test_2d766ceecd7a';
    const line = adminCodeCommand({ databaseUrl, secretKeyFile: '/tmp/latchkey-dev/secret.key', devDirectory: undefined });
    expect(line).toBe(`DATABASE_URL=${databaseUrl} LATCHKEY_SECRET_KEY=$(cat /tmp/latchkey-dev/secret.key) npm run admin -- code tom`);
    expect(environmentOf(line.replace('/tmp/latchkey-dev/secret.key', '/dev/null')).DATABASE_URL).toBe(databaseUrl);
  });
});
