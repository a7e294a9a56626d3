// `npm run build -w extension`: the Chromium and Firefox builds from one source, plus the test build
// (loopback host permissions) when LATCHKEY_TEST_BUILD=1. Then prints the gzip size of each entry.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const targets = ['chromium', 'firefox'];
if (process.env.LATCHKEY_TEST_BUILD === '1') targets.push('chromium-test');

for (const target of targets) {
  const result = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, LATCHKEY_TARGET: target },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
  console.log(`built dist/${target}`);
}
const sizes = spawnSync('node', ['scripts/sizes.mjs'], { cwd: root, stdio: 'inherit' });
process.exit(sizes.status ?? 1);
