import { FIELDS, ROUTES } from '@latchkey/shared';
import { expect, test } from '../src/kit/fixtures.js';
import { createUserIn, currentTotp } from '../src/kit/index.js';
import { ACCOUNT_URL, enterTotp, logIn, logOut, saveScreenshot, TWO_FACTOR_URL } from './journey-helpers.js';
import { POSTGRES_TOO } from './projects.js';

// Journeys through the server's own pages in a plain browser (no extension), clicking and typing
// what a maintainer would. Each test has its own server and database of the project's dialect.

test(
  'smoke: register, verify the address from the mail, turn on TOTP from the page’s secret, log in with a code, then with a recovery code once',
  { tag: POSTGRES_TOO },
  async ({ page, server, mail }, testInfo) => {
    const username = `smoke-${Date.now().toString(36)}`;
    const password = 'a long and private passphrase';

    // Register.
    await page.goto(`${server.url}${ROUTES.register}`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Email address').fill(`${username}@example.com`);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByLabel('Confirm password').fill(password);
    await saveScreenshot(page, 'register', testInfo);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page).toHaveURL(ACCOUNT_URL);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    // Verify the address with the link the server mailed (two-factor set-up needs a verified address).
    const verification = await mail.waitForMail({ to: `${username}@example.com`, subject: /verify your e-mail address/ });
    await page.goto(verification.link(ROUTES.verifyEmail)!);
    await expect(page.getByText(`Thank you: ${username}@example.com is verified.`)).toBeVisible();

    // Turn on TOTP by reading the secret the page shows, as someone typing it into an app would.
    await page.goto(`${server.url}${ROUTES.totpProvision}`);
    await expect(page.getByRole('img', { name: /QR code/ })).toBeVisible();
    const secret = (await page.getByLabel('Secret key').textContent())!.replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits
    await saveScreenshot(page, 'totp-provision', testInfo);
    await page.getByLabel('The 6-digit code your app shows now').fill(currentTotp(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();

    // Recovery codes are shown once, right away.
    await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
    const codes = (await page.locator('#recovery-codes code').allTextContents()).map((code) => code.trim());
    expect(codes).toHaveLength(8);
    for (const code of codes) expect(code.replace(/[\s-]/g, '')).toMatch(/^[0-9a-f]{16}$/);
    await saveScreenshot(page, 'recovery-codes', testInfo);
    // A reload shows nothing: the set is shown once.
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Recovery codes are shown only once' })).toBeVisible();
    await page.goto(`${server.url}${ROUTES.manageAccount}`);
    await expect(page.getByText('Your recovery codes are unconfirmed.')).toBeVisible();
    await saveScreenshot(page.locator('section[aria-labelledby="codes-heading"]'), 'account-recovery-codes-unconfirmed', testInfo);

    // The burn step: one code typed back proves the set was saved; that code is used up.
    await page.getByRole('link', { name: 'Confirm a recovery code' }).click();
    await expect(page.getByRole('heading', { name: 'Confirm your recovery codes' })).toBeVisible();
    await saveScreenshot(page, 'recovery-codes-verify', testInfo);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect(page.getByLabel('One of your new recovery codes')).toHaveAttribute('aria-invalid', 'true');
    await page.getByLabel('One of your new recovery codes').fill(codes[7]!);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect(page).toHaveURL(ACCOUNT_URL);
    await expect(page.getByText('Recovery codes confirmed.')).toBeVisible();
    await expect(page.getByText('Your recovery codes are unconfirmed.')).toHaveCount(0);
    await saveScreenshot(page, 'server-account-2fa-on', testInfo);
    await logOut(page);

    // Log in with a code. The confirmation used this step's code, and a step is never accepted twice,
    // so use the next step's code (accepted as one step of clock drift).
    await logIn(page, server.url, { username, password });
    await expect(page).toHaveURL(TWO_FACTOR_URL);
    await saveScreenshot(page, 'two-factor', testInfo);
    await enterTotp(page, currentTotp(secret, { at: Date.now() + 30_000 }));
    await expect(page).toHaveURL(ACCOUNT_URL);
    await logOut(page);

    // Log in with a recovery code, typed in upper case with a dash, as people copy them.
    await logIn(page, server.url, { username, password });
    await page.getByRole('link', { name: 'Log in with a recovery code' }).click();
    await expect(page).toHaveURL(new RegExp(`${ROUTES.recoveryCode}\\?token=`));
    await page.getByLabel('Recovery code', { exact: true }).fill(codes[0]!.toUpperCase());
    await saveScreenshot(page, 'recovery-code-login', testInfo);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page).toHaveURL(ACCOUNT_URL);
    // One code went to the burn step, this one to the login: 6 left.
    await expect(page.getByText(/You logged in with a recovery code; it cannot be used again\. 6 recovery codes left\./)).toBeVisible();
    await logOut(page);

    // The same code again: refused, with the reason.
    await logIn(page, server.url, { username, password });
    await page.getByRole('link', { name: 'Log in with a recovery code' }).click();
    await page.getByLabel('Recovery code', { exact: true }).fill(codes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByText('This recovery code has already been used. Each code works only once.')).toBeVisible();
    await expect(page).not.toHaveURL(ACCOUNT_URL);
    await saveScreenshot(page, 'recovery-code-reused', testInfo);
    // Another, unused code still works.
    await page.getByLabel('Recovery code', { exact: true }).fill(codes[1]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page).toHaveURL(ACCOUNT_URL);
  },
);

test('lock-out: each wrong code says how many tries are left; then the second step is locked with a try-again message, said again on arrival', async ({
  page,
  server,
}, testInfo) => {
  const user = await createUserIn(server, 'totp');
  const limit = server.config.rateLimits.secondFactorPerAccount.max;
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(TWO_FACTOR_URL);
  const valid = new Set([-30_000, 0, 30_000].map((offset) => currentTotp(user.totpSecret!, { at: Date.now() + offset })));
  const wrong = ['123456', '654321', '111111'].find((code) => !valid.has(code))!;

  for (let attempt = 1; attempt < limit; attempt++) {
    await enterTotp(page, wrong);
    await expect(page.getByRole('alert').getByText('Invalid code. Check your device’s clock and try the current code.')).toBeVisible();
    // Each refusal says how many tries are left before the pause (issue 17 point 9).
    const left = limit - attempt;
    await expect(
      page.getByRole('alert').getByText(`${left} attempt${left === 1 ? '' : 's'} left before two-factor login is paused for 15 minutes.`),
    ).toBeVisible();
  }
  await enterTotp(page, wrong);
  await expect(page.getByText(/Too many failed attempts\. Try again in 15 minutes\./)).toBeVisible();
  await saveScreenshot(page, 'two-factor-locked-out', testInfo);

  // Locked: no code form and no recovery-code link are offered, and arriving again says so at once.
  await expect(page.locator('input[name="totp_value"]')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Log in with a recovery code' })).toHaveCount(0);
  await page.reload();
  await expect(page.getByText(/Too many failed attempts\. Try again in \d+ minutes?\./)).toBeVisible();
  await expect(page.locator('input[name="totp_value"]')).toHaveCount(0);
  // (That the right code is refused while locked is asserted over HTTP in server/src/routes/abuse-limits.test.ts
  // and across instances in test/src/reliability/rate-limits.test.ts: the form is no longer offered here.)
  await expect(page).not.toHaveURL(ACCOUNT_URL);
  // The lock-out is in the user's security history.
  const events = await server.services.events.list(user.id);
  expect(events.map((event) => event.tag)).toContain('account:lockout');
});

test('expired two-factor token: after 5 minutes the code is refused and the page offers to log in again', async ({ page, server }, testInfo) => {
  const user = await createUserIn(server, 'totp');
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(TWO_FACTOR_URL);
  server.clock.advance(5 * 60_000 + 1_000);
  await enterTotp(page, currentTotp(user.totpSecret!, { at: Date.now() }));
  await expect(page.getByText('Your login has expired: the second step must be completed within 5 minutes. Please log in again.')).toBeVisible();
  await expect(page).not.toHaveURL(ACCOUNT_URL);
  await saveScreenshot(page, 'two-factor-expired', testInfo);
  await page
    .getByRole('link', { name: /log in again|log in/i })
    .last()
    .click();
  await expect(page).toHaveURL(new RegExp(`${ROUTES.login}`));
  // A fresh login works at the (moved) time.
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await enterTotp(page, currentTotp(user.totpSecret!, { at: Date.now() }));
  await expect(page).toHaveURL(ACCOUNT_URL);
});

test('a spent two-factor link cannot be replayed after login', async ({ page, server }) => {
  const user = await createUserIn(server, 'totp');
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(TWO_FACTOR_URL);
  const twoFactorUrl = page.url();
  await enterTotp(page, currentTotp(user.totpSecret!));
  await expect(page).toHaveURL(ACCOUNT_URL);
  await logOut(page);
  await page.goto(twoFactorUrl);
  await expect(page.getByText('This login link has already been used. Please log in again.')).toBeVisible();
  await expect(page.locator(`input[name="${FIELDS.totpValue}"]`)).toHaveCount(0);
});

test('log out of all sessions: the other browser is logged out at its next page', async ({ page, browser, server }, testInfo) => {
  const user = await createUserIn(server, 'no-2fa');
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(ACCOUNT_URL);
  // A second browser (its own cookies) logged in as the same user.
  const otherContext = await browser.newContext();
  try {
    const other = await otherContext.newPage();
    await logIn(other, server.url, user);
    await expect(other).toHaveURL(ACCOUNT_URL);

    const sessions = page.locator('section', { has: page.getByRole('heading', { name: 'Sessions' }) });
    await expect(sessions.getByText('Ends every session of this account, including this one')).toBeVisible();
    await sessions.screenshot({ path: testInfo.outputPath('account-sessions.png') });
    await sessions.getByRole('button', { name: 'Log out of all sessions' }).click();
    await expect(page).toHaveURL(new RegExp(`${ROUTES.login}\\?ended=everywhere$`));
    await expect(page.getByRole('status')).toHaveText('You have logged out of every session, on this browser and on every other one.');

    // The other browser still shows the old page; its next navigation lands on the login page, which says why.
    await other.reload();
    await expect(other).toHaveURL(new RegExp(`${ROUTES.login}\\?ended=elsewhere&next=`));
    await expect(other.getByRole('status')).toContainText('when it is ended from another browser');
    await expect(other.getByRole('button', { name: 'Log in' })).toBeVisible();
    // And this browser is logged out too.
    await page.goto(`${server.url}${ROUTES.manageAccount}`);
    await expect(page).toHaveURL(new RegExp(`${ROUTES.login}\\?next=`));
  } finally {
    await otherContext.close();
  }

  // Logging in again works; the security history says what happened.
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(ACCOUNT_URL);
  await expect(page.getByText('Logged out of all sessions (2 ended)')).toBeVisible();
  const events = await server.services.events.list(user.id);
  expect(events.map((event) => event.tag)).toContain('account:sessions:revoked');
});

test('home, registration errors at once, a refused removal in place, the log-out page and its notice; focus never on <body>', async ({
  page,
  server,
}, testInfo) => {
  await page.goto(`${server.url}${ROUTES.home}`);
  await expect(page.getByRole('heading', { name: 'Latchkey', level: 1 })).toBeVisible();
  await saveScreenshot(page, 'home', testInfo);
  await page.getByRole('main').getByRole('link', { name: 'Create an account' }).click();

  // Four mistakes, one answer: every error listed, the first invalid field focused, nothing secret kept.
  await page.getByLabel('Username').fill('bad name!');
  await page.getByLabel('Email address').fill('nope');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByLabel('Confirm password').fill('shorter');
  await page.getByRole('button', { name: 'Create account' }).click();
  const summary = page.getByRole('alert');
  for (const text of ['The username may contain', 'valid email address', 'at least 12 characters', 'do not match']) await expect(summary).toContainText(text);
  await expect(page.getByLabel('Username')).toBeFocused();
  await expect(page.getByLabel('Username')).toHaveValue('bad name!');
  await expect(page.getByLabel('Email address')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Password', { exact: true })).toHaveValue('');
  await saveScreenshot(page, 'register-errors', testInfo);

  // A refused TOTP removal (wrong password) stays on the account page, the error next to the focused field.
  const user = await createUserIn(server, 'totp');
  await logIn(page, server.url, user);
  await enterTotp(page, currentTotp(user.totpSecret!));
  await expect(page).toHaveURL(ACCOUNT_URL);
  await page.getByText('Remove authentication app', { exact: true }).first().click();
  await page.getByLabel(/two-factor authentication turns off/).check();
  await page.getByLabel('Confirm with your password').fill('not the password');
  await page.getByRole('button', { name: 'Remove authentication app' }).click();
  await expect(page.getByRole('heading', { name: 'Account security', level: 1 })).toBeVisible();
  await expect(page.getByLabel('Confirm with your password')).toBeFocused();
  await expect(page.getByLabel('Confirm with your password')).toHaveAccessibleDescription(/That password is not correct\./);
  await saveScreenshot(page, 'account-remove-refused', testInfo);

  // GET /account/logout/ offers the button; afterwards the login page says what happened.
  await page.goto(`${server.url}${ROUTES.logout}`);
  await expect(page.getByRole('main').getByRole('button', { name: 'Log out' })).toBeFocused();
  await page.getByRole('main').getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('status')).toHaveText('You have logged out.');
  await expect(page.getByLabel('Username')).toBeFocused();
});
