/**
 * The kit used the documented way by someone else's test file: outside this repository, importing
 * `@latchkey/test` (linked into that project's node_modules, as `npm link` or a file: dependency does),
 * run by tsx from the project root, by Vitest and by Playwright — with no extra flags or tsconfig.
 * tsx compiles each file with the tsconfig of the working directory only, so views that relied on
 * server/tsconfig.json's `jsxImportSource` were compiled for React and every page answered 500.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);

/** What the outside test file checks, shared by the three runners: pages render, errors show no stack. */
const PROBE = `
import * as kit from '@latchkey/test';
export async function probe() {
  const server = await kit.startTestServer();
  try {
    const login = await fetch(server.url + kit.ROUTES.login);
    const missing = await fetch(server.url + '/no-such-page', { headers: { accept: 'text/html' } });
    return { login: login.status, loginHtml: await login.text(), missing: missing.status, missingHtml: await missing.text() };
  } finally {
    await server.close();
  }
}
`;

function expectPagesRender(result: { login: number; loginHtml: string; missing: number; missingHtml: string }) {
  expect(result.login).toBe(200);
  expect(result.loginHtml).toContain('<h1>Log in</h1>');
  expect(result.missing).toBe(404);
  expect(result.missingHtml).toContain('Page not found');
  for (const html of [result.loginHtml, result.missingHtml]) expect(html).not.toMatch(/React is not defined|\n\s+at /);
}

describe('the kit from a test file outside the workspace', () => {
  let dir = '';
  beforeAll(async () => {
    // The kit runs the server from source but @latchkey/shared from its build, as `npm test` leaves it.
    if (!existsSync(join(repoRoot, 'shared/dist/index.js'))) await run('npm', ['run', 'build', '-w', 'shared'], { cwd: repoRoot });
    dir = await mkdtemp(join(tmpdir(), 'latchkey-kit-user-'));
    await mkdir(join(dir, 'node_modules/@latchkey'), { recursive: true });
    await mkdir(join(dir, 'node_modules/@playwright'), { recursive: true });
    await symlink(join(repoRoot, 'test'), join(dir, 'node_modules/@latchkey/test'));
    await symlink(join(repoRoot, 'node_modules/vitest'), join(dir, 'node_modules/vitest'));
    await symlink(join(repoRoot, 'node_modules/@playwright/test'), join(dir, 'node_modules/@playwright/test'));
    await writeFile(join(dir, 'probe.mts'), PROBE);
  }, 120_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs under `npx tsx file.mts` from the project root', async () => {
    await writeFile(join(dir, 'main.mts'), `import { probe } from './probe.mts';\nconsole.log(JSON.stringify(await probe()));\n`);
    const { stdout } = await run(bin('tsx'), [join(dir, 'main.mts')], { cwd: repoRoot, timeout: 120_000 });
    expectPagesRender(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'));
  }, 150_000);

  it('runs under Vitest', async () => {
    await writeFile(
      join(dir, 'kit.test.mts'),
      `import { expect, test } from 'vitest';\nimport { probe } from './probe.mts';\n` +
        `test('pages render', async () => { const r = await probe(); expect([r.login, r.missing]).toEqual([200, 404]); expect(r.loginHtml).toContain('<h1>Log in</h1>'); }, 60000);\n`,
    );
    const { stdout } = await run(bin('vitest'), ['run', '--root', dir], { cwd: dir, timeout: 120_000 });
    expect(stdout).toMatch(/1 passed/);
  }, 150_000);

  it('runs under Playwright', async () => {
    await writeFile(
      join(dir, 'kit.spec.mts'),
      `import { expect, test } from '@playwright/test';\nimport { probe } from './probe.mts';\n` +
        `test('pages render', async () => { const r = await probe(); expect([r.login, r.missing]).toEqual([200, 404]); expect(r.loginHtml).toContain('<h1>Log in</h1>'); });\n`,
    );
    const { stdout } = await run(bin('playwright'), ['test', 'kit.spec.mts', '--reporter=line', `--output=${join(dir, 'results')}`], {
      cwd: dir,
      timeout: 120_000,
    });
    expect(stdout).toMatch(/1 passed/);
  }, 150_000);

  it("runs the kit's Playwright fixtures, `page` in Debian's browser with no config of its own", async () => {
    await writeFile(
      join(dir, 'fixtures.spec.mts'),
      `import { test, expect } from '@latchkey/test/fixtures';\n` +
        `test('login page', async ({ server, page }) => { await page.goto(server.url + '/account/login/'); await expect(page.getByRole('heading', { level: 1 })).toHaveText('Log in'); });\n`,
    );
    const { stdout } = await run(bin('playwright'), ['test', 'fixtures.spec.mts', '--reporter=line', `--output=${join(dir, 'results')}`], {
      cwd: dir,
      timeout: 120_000,
    });
    expect(stdout).toMatch(/1 passed/);
  }, 150_000);

  it('names the two copies when the project installed its own @playwright/test', async () => {
    // A project that ran `npm install -D @playwright/test` has its own copy of the runner.
    const project = join(dir, 'own-playwright');
    await mkdir(join(project, 'node_modules/@latchkey'), { recursive: true });
    await mkdir(join(project, 'node_modules/@playwright'), { recursive: true });
    await symlink(join(repoRoot, 'test'), join(project, 'node_modules/@latchkey/test'));
    await cp(join(repoRoot, 'node_modules/playwright'), join(project, 'node_modules/playwright'), { recursive: true });
    await cp(join(repoRoot, 'node_modules/@playwright/test'), join(project, 'node_modules/@playwright/test'), { recursive: true });
    await symlink(join(repoRoot, 'node_modules/playwright-core'), join(project, 'node_modules/playwright-core'));
    await writeFile(join(project, 'fixtures.spec.mts'), `import { test } from '@latchkey/test/fixtures';\ntest('anything', () => {});\n`);
    const failed = await run(
      process.execPath,
      [join(project, 'node_modules/@playwright/test/cli.js'), 'test', '--reporter=line', `--output=${join(project, 'results')}`],
      {
        cwd: project,
        timeout: 120_000,
      },
    ).then(
      () => null,
      (error: { stdout: string; stderr: string }) => error,
    );
    expect(failed).not.toBeNull();
    expect(`${failed?.stdout}${failed?.stderr}`).toContain(`npm install --save-dev ${join(repoRoot, 'node_modules/@playwright/test')}`);
  }, 150_000);
});
