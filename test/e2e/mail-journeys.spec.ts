import { ROUTES } from '@latchkey/shared';
import { expect, test } from '../src/kit/fixtures.js';
import { createUserIn, currentTotp } from '../src/kit/index.js';
import { ACCOUNT_URL, enterTotp, logIn, logOut, saveScreenshot, TWO_FACTOR_URL } from './journey-helpers.js';
import { POSTGRES_TOO } from './projects.js';

// Mail journeys: the server delivers through a real SMTP server in the test process (the kit's mail
// catcher); the browser follows the links in what arrived, as the maintainer would from their mailbox.

test('register → the link arrives by mail → verify → turn on TOTP → a notice arrives for it', async ({ page, server, mail }, testInfo) => {
  const username = `mailer-${Date.now().toString(36)}`;
  const address = `${username}@example.com`;
  const password = 'a long and private passphrase';
  await page.goto(`${server.url}${ROUTES.register}`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email address').fill(address);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(ACCOUNT_URL);
  const section = page.locator('#email-addresses');
  await expect(section.getByText('Not verified', { exact: true })).toBeVisible();
  await saveScreenshot(section, 'email-unverified', testInfo);

  // Before verifying, the authentication-app page refuses, and says how to fix it.
  await page.getByRole('link', { name: 'Add an authentication app' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Verify your e-mail address first' })).toBeVisible();
  await saveScreenshot(page, 'verify-email-first', testInfo);
  await page.getByRole('link', { name: 'Go to your e-mail addresses' }).click();
  await expect(page).toHaveURL(new RegExp(`${ROUTES.manageAccount}#email-addresses$`));

  // The mail: text and HTML parts, a link on the server's origin, no secret.
  const message = await mail.waitForMail({ to: address, subject: /verify your e-mail address/ });
  expect(message.html).toContain('Verify this address');
  const link = message.link(ROUTES.verifyEmail)!;
  expect(link.startsWith(`${server.url}${ROUTES.verifyEmail}?token=`)).toBe(true);
  await page.goto(link);
  await expect(page.getByText(`Thank you: ${address} is verified.`)).toBeVisible();
  await expect(section.getByText('Verified', { exact: true })).toBeVisible();
  await saveScreenshot(section, 'email-verified', testInfo);

  // The same link again: its own clear page, with the way forward.
  await page.goto(link);
  await expect(page.getByRole('heading', { level: 1, name: 'Address already verified' })).toBeVisible();
  await saveScreenshot(page, 'verify-email-used', testInfo);

  // Now TOTP can be turned on; the notice of it arrives by mail.
  await page.goto(`${server.url}${ROUTES.totpProvision}`);
  const secret = (await page.getByLabel('Secret key').textContent())!.replace(/\s+/g, '');
  await page.getByLabel('The 6-digit code your app shows now').fill(currentTotp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  const codes = (await page.locator('#recovery-codes code').allTextContents()).map((code) => code.replace(/[\s-]/g, ''));
  const notice = await mail.waitForMail({ to: address, subject: /two-factor method added/ });
  expect(notice.text).toContain('An authentication app was added as a second factor');
  expect(notice.link(ROUTES.manageAccount)).toBe(`${server.url}${ROUTES.manageAccount}`);
  for (const code of codes) expect(notice.text).not.toContain(code);
  expect(notice.text).not.toContain(secret);
});

test('a recovery-code login and a wrong code each mail a notice; the recovery notice says how many codes are left', async ({ page, server, mail }) => {
  const user = await createUserIn(server, 'totp+key+recovery');
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(TWO_FACTOR_URL);
  await enterTotp(page, '000000' === currentTotp(user.totpSecret!) ? '111111' : '000000');
  await expect(page.locator('[role="alert"]')).toBeVisible();
  const failure = await mail.waitForMail({ to: user.email, subject: /failed login attempt/ });
  expect(failure.text).toContain('failed the second step (an authentication app)');

  await page.getByRole('link', { name: 'Log in with a recovery code' }).click();
  await page.getByLabel('Recovery code', { exact: true }).fill(user.recoveryCodes![0]!);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(ACCOUNT_URL);
  const used = await mail.waitForMail({ to: user.email, subject: /a recovery code was used/ });
  expect(used.text).toContain('7 recovery codes are left.');
  expect(used.text).not.toContain(user.recoveryCodes![0]!);
});

test(
  'a second address: added, verified from its own mail (the primary is told), made primary — the old address is told',
  { tag: POSTGRES_TOO },
  async ({ page, server, mail }, testInfo) => {
    const user = await createUserIn(server, 'no-2fa');
    const second = `second-${user.username}@example.org`;
    await logIn(page, server.url, user);
    await expect(page).toHaveURL(ACCOUNT_URL);
    await page.getByLabel('Add an e-mail address').fill(second);
    await page.getByRole('button', { name: 'Add address' }).click();
    await expect(page.getByText(`We sent a verification link to ${second}.`)).toBeVisible();
    const message = await mail.waitForMail({ to: second, subject: /verify your e-mail address/ });
    await page.goto(message.link(ROUTES.verifyEmail)!);
    await expect(page.getByText(`Thank you: ${second} is verified.`)).toBeVisible();
    // Reset links can go to the new address now: the address already trusted is told.
    const added = await mail.waitForMail({ to: user.email, subject: /e-mail address added to your account/ });
    expect(added.text).toContain(second);
    await saveScreenshot(page.locator('#email-addresses'), 'email-addresses', testInfo);
    await page.getByRole('button', { name: `Make primary: ${second}` }).click();
    await expect(page.getByText(`${second} is now your primary address.`)).toBeVisible();
    const told = await mail.waitForMail({ to: user.email, subject: /primary e-mail address changed/ });
    expect(told.text).toContain(second);

    // A bad address is shown again with its error on the field.
    await page.getByLabel('Add an e-mail address').fill('not an address');
    await page.getByRole('button', { name: 'Add address' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Add an e-mail address' })).toBeVisible();
    await expect(page.getByLabel('Add an e-mail address')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel('Add an e-mail address')).toBeFocused();
    await logOut(page);
  },
);
