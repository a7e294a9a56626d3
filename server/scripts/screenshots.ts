/**
 * Screenshots of every server page for the README and for looking at: `npx tsx server/scripts/screenshots.ts`
 * (from the repository root). Starts a throw-away server on 127.0.0.1, drives Debian's Chromium.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Secret } from 'otpauth';
import { chromium } from 'playwright-core';
import { testConfig } from '../src/config.js';
import { createTestDatabaseUrl } from '../src/db/test-database.js';
import { startServer } from '../src/main.js';
import { generateTotpCode } from '../src/services/totp-code.js';
import { linkIn, readOutbox } from '../src/testing/read-outbox.js';
import { ROUTES } from '@latchkey/shared';
// The kit's one list of Chromium flags for this machine (loopback only, Debian's binary).
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../test/src/kit/chromium.js';

const OUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const PASSWORD = 'correct horse battery staple';

const database = await createTestDatabaseUrl('sqlite');
const server = await startServer(testConfig({ databaseUrl: database.databaseUrl, rpName: 'Latchkey' }));
const browser = await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: [...CHROMIUM_ARGS] });
try {
  await mkdir(OUT, { recursive: true });
  const context = await browser.newContext({ viewport: { width: 900, height: 900 }, deviceScaleFactor: 1, acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = await context.newPage();
  // Anything the CSP blocks (or any script error) shows up here; the run fails on it.
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  const shot = async (name: string) => {
    await page.screenshot({ path: path.join(OUT, `server-${name}.png`), fullPage: true });
    console.log(`docs/screenshots/server-${name}.png`);
  };
  const url = (route: string) => new URL(route, server.url).href;

  await page.goto(url('/account/register/'));
  await page.fill('#field-username', 'alice');
  await page.fill('#field-email', 'not-an-email');
  await page.fill('#field-new_password', PASSWORD);
  await page.fill('#field-password_confirm', PASSWORD);
  await page.click('main button[type=submit]');
  await shot('register-error');
  await page.fill('#field-email', 'alice@example.org');
  await page.fill('#field-new_password', PASSWORD);
  await page.fill('#field-password_confirm', PASSWORD);
  await page.click('main button[type=submit]');
  await shot('account-2fa-off');
  // The first second factor needs a verified address: follow the link from the queued mail, as from the mailbox.
  const [verification] = await readOutbox(server.services, { to: 'alice@example.org', kind: 'verify-email' });
  const verifyLink = verification && linkIn(verification.text, ROUTES.verifyEmail);
  if (!verifyLink) throw new Error('no verification mail was queued for alice');
  await page.goto(url(verifyLink));

  await page.goto(url('/manage/account/totp-provision'));
  await shot('totp-provision');
  const secret = (await page.textContent('code[aria-label="Secret key"]'))!.replace(/ /g, '');
  await page.fill('#totp-value', generateTotpCode({ secret: Secret.fromBase32(secret), timestampMs: Date.now() }));
  await page.click('main button[type=submit]');
  await shot('recovery-codes');
  // The download link must work under the CSP (a data: URL with the download attribute, no script).
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Download')]);
  const saved = await readFile((await download.path())!, 'utf8');
  if (!/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/m.test(saved)) throw new Error(`Downloaded recovery codes look wrong: ${saved}`);
  console.log(`download ok: ${download.suggestedFilename()}`);
  // The copy button is wired by /static/recovery-codes.js: its status line proves the script loaded under the CSP.
  await page.click('#copy-recovery-codes');
  await page.waitForFunction(() => (document.getElementById('copy-status')?.textContent ?? '') !== '');
  console.log(`copy: ${await page.textContent('#copy-status')}`);
  await page.click('text=I have saved my recovery codes');
  // The burn step: type one of the codes just saved (it is used up), then the account page.
  await shot('recovery-codes-verify');
  const firstCode = saved.match(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/m)![0];
  await page.fill('#field-recovery_code_value', firstCode);
  await page.click('main button[type=submit]');
  await page.waitForURL((address) => address.pathname === '/manage/account/');
  await shot('account-2fa-on');

  await page.click('text=Log out');
  await shot('login');
  await page.fill('#field-username', 'alice');
  await page.fill('#field-password', 'wrong password!');
  await page.click('main button[type=submit]');
  await shot('login-error');
  await page.fill('#field-password', PASSWORD);
  await page.click('main button[type=submit]');
  await shot('two-factor');
  await page.fill('#totp-value', '000000');
  await page.click('main form[method=post] button[type=submit]');
  await shot('two-factor-error');
  await page.click('text=Log in with a recovery code');
  await shot('recovery-code-login');

  await page.goto(url('/account/two-factor/?token=forged.token'));
  await shot('token-invalid');
  await page.goto(url('/no/such/page'));
  await shot('not-found');
  await context.close();
  // 404 and 4xx pages log "Failed to load resource" for their own status; anything else is a problem.
  const unexpected = problems.filter((text) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(text));
  if (unexpected.length > 0) throw new Error(`Browser console errors:\n${unexpected.join('\n')}`);
  console.log('no console errors (no CSP violations)');
} finally {
  await browser.close();
  await server.close();
  await database.drop();
}
