import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXTENSION_PATH, launchBrowserWithExtension } from './launch-browser-with-extension.js';

const extensionDir = fileURLToPath(new URL('../../../extension/', import.meta.url));

describe('launchBrowserWithExtension without a build', () => {
  it('names a command that really writes the test build (a plain `npm run build` writes only dist/chromium and dist/firefox)', async () => {
    const message = await launchBrowserWithExtension({ extensionPath: join(extensionDir, 'dist', 'no-such-build') }).then(
      () => 'launched',
      (error: Error) => error.message,
    );
    expect(message).toMatch(/^launchBrowserWithExtension: no manifest\.json in .*no-such-build\./);
    const command = /`(npm run [^`]+)`/.exec(message)?.[1];
    expect(command).toBe('npm run build:test -w extension');
    // That script is the extension build with LATCHKEY_TEST_BUILD=1, which adds the chromium-test target: the default path.
    const scripts = (JSON.parse(readFileSync(join(extensionDir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['build:test']).toBe('LATCHKEY_TEST_BUILD=1 node scripts/build.mjs');
    expect(readFileSync(join(extensionDir, 'scripts', 'build.mjs'), 'utf8')).toContain(
      "if (process.env.LATCHKEY_TEST_BUILD === '1') targets.push('chromium-test');",
    );
    expect(DEFAULT_EXTENSION_PATH).toBe(join(extensionDir, 'dist', 'chromium-test'));
  });
});
