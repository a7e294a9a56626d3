import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const launcher = createRequire(import.meta.url)('../bin/latchkey-server.cjs') as { threadPoolSize(cores?: number): number };

describe('bin/latchkey-server.cjs', () => {
  it('sizes libuv’s pool one thread per core, never below 2', () => {
    expect(launcher.threadPoolSize(1)).toBe(2);
    expect(launcher.threadPoolSize(2)).toBe(2);
    expect(launcher.threadPoolSize(8)).toBe(8);
  });

  it('is what `npm start` runs (required as a module, as here, it starts nothing)', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(manifest.scripts.start).toContain('bin/latchkey-server.cjs');
  });
});
