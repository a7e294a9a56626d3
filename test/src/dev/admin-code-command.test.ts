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
    const line = adminCodeCommand({ devDirectory: "/work/dev dir/it's" });
    expect(line).toMatch(/^LATCHKEY_DEV_DIR=.* npm run admin -- code tom$/);
    expect(environmentOf(line).LATCHKEY_DEV_DIR).toBe("/work/dev dir/it's");
  });

  it('is the bare command with the default directory (the seed file names the database; code needs no key)', () => {
    expect(adminCodeCommand({ devDirectory: undefined })).toBe('npm run admin -- code tom');
  });
});
