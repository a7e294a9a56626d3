import { ROUTES } from '@latchkey/shared';
import { expect, test } from '../src/kit/fixtures.js';
import { createUserIn, currentTotp, startMailCatcher, startTestServer } from '../src/kit/index.js';
import { ACCOUNT_URL, enterTotp, logIn, saveScreenshot, TWO_FACTOR_URL } from './journey-helpers.js';
import { POSTGRES_TOO } from './projects.js';

// Password change and reset (issue 13 items 4 and 5), through the pages, with mail received by a real
// SMTP server in the test process and its links followed as a person would.

const NEW_PASSWORD = 'a fresh and private passphrase';

test(
  'forgot password: the mailed link resets the password once, and the next login still asks for the code',
  { tag: POSTGRES_TOO },
  async ({ page, dialect }, testInfo) => {
    const mail = await startMailCatcher();
    const server = await startTestServer({ dialect, smtpUrl: mail.url });
    try {
      const user = await createUserIn(server, 'totp');

      await page.goto(`${server.url}${ROUTES.login}`);
      await page.getByRole('link', { name: 'Forgot password?' }).click();
      await expect(page.getByRole('heading', { name: 'Reset your password' })).toBeVisible();
      await page.getByLabel('Username or e-mail address').fill(user.email.toUpperCase());
      await saveScreenshot(page, 'request-password-reset', testInfo);
      await page.getByRole('button', { name: 'Send reset link' }).click();
      await expect(page.getByRole('heading', { name: 'Check your e-mail' })).toBeVisible();
      await saveScreenshot(page, 'request-password-reset-sent', testInfo);

      const message = await mail.waitForMail({ to: user.email, subject: /reset your password/ });
      expect(message.text).toContain(user.username);
      expect(message.text).not.toContain(user.password);
      const link = message.link(ROUTES.resetPassword);
      expect(link).toMatch(/^http:\/\/localhost:\d+\/account\/reset-password\/\?token=/);

      await page.goto(link!);
      await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
      await saveScreenshot(page, 'reset-password', testInfo);
      await page.getByRole('button', { name: 'Set new password' }).click();
      await expect(page.getByLabel('New password', { exact: true })).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByLabel('New password', { exact: true })).toBeFocused();
      await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Set new password' }).click();
      await expect(page.getByRole('heading', { name: 'Your password was reset' })).toBeVisible();

      // The notice follows, and the link is spent.
      await mail.waitForMail({ to: user.email, subject: /password was reset/ });
      await page.goto(link!);
      await expect(page.getByRole('heading', { name: 'Reset link already used' })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Request a new reset link' })).toBeVisible();
      await saveScreenshot(page, 'reset-link-used', testInfo);

      // The old password is refused; the new one leads to the second factor, as before the reset.
      await logIn(page, server.url, { username: user.username, password: user.password });
      await expect(page.getByRole('alert')).toBeVisible();
      await logIn(page, server.url, { username: user.username, password: NEW_PASSWORD });
      await expect(page).toHaveURL(TWO_FACTOR_URL);
      // The user's TOTP was enabled with this step's code: use the next step's.
      await enterTotp(page, currentTotp(user.totpSecret!, { at: Date.now() + 30_000 }));
      await expect(page).toHaveURL(ACCOUNT_URL);
      await expect(page.getByText('Password reset by e-mail link')).toBeVisible();
    } finally {
      await server.close();
      await mail.close();
    }
  },
);

test('change password: the other browser’s session ends, this one stays', async ({ page, server, browser }, testInfo) => {
  const user = await createUserIn(server, 'no-2fa');
  const otherContext = await browser.newContext();
  try {
    const other = await otherContext.newPage();
    await logIn(other, server.url, user);
    await expect(other).toHaveURL(ACCOUNT_URL);
    await logIn(page, server.url, user);
    await expect(page).toHaveURL(ACCOUNT_URL);

    await page.getByRole('link', { name: 'Change password' }).click();
    await expect(page.getByRole('heading', { name: 'Change your password' })).toBeVisible();
    await page.getByLabel('Current password').fill('not the password at all');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel('Current password')).toBeFocused();
    await saveScreenshot(page, 'change-password-error', testInfo);
    await page.getByLabel('Current password').fill(user.password);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page).toHaveURL(ACCOUNT_URL);
    await expect(page.getByText('Password changed. 1 other session was logged out')).toBeVisible();

    // The other browser is logged out: its next page is the login page.
    await other.reload();
    await expect(other).toHaveURL(new RegExp(`${ROUTES.login.replace(/\//g, '\\/')}`));
    await logIn(other, server.url, { username: user.username, password: NEW_PASSWORD });
    await expect(other).toHaveURL(ACCOUNT_URL);
  } finally {
    await otherContext.close();
  }
});
