import { ROUTES } from '@latchkey/shared';
import { expect, test } from '../src/kit/fixtures.js';
import { currentTotp } from '../src/kit/index.js';
import { expectFocusOnNewScreen, pressEnterAndLoad, tabTo } from './accessibility/keyboard.js';
import { ACCOUNT_URL, TWO_FACTOR_URL } from './journey-helpers.js';

// Keyboard only: register → turn on TOTP → log out → log in, never touching the mouse. At every Tab
// stop the focus indicator is drawn; after every page change focus lands on the new page's heading,
// its one field to type into, or — after a mistake — the first error. Markup and focus do not depend
// on the database, so this runs in the SQLite project only.

test('keyboard only: register, turn on TOTP, log out, log in — focus visible and on the new screen or the first error', async ({ page, server, mail }) => {
  const username = `keys-${Date.now().toString(36)}`;
  const password = 'a long and private passphrase';

  // Register, first with a mistake: focus goes to the first error.
  await page.goto(`${server.url}${ROUTES.register}`);
  await expectFocusOnNewScreen(page);
  await tabTo(page, page.getByLabel('Username'));
  await page.keyboard.type(username);
  await tabTo(page, page.getByLabel('Email address'));
  await page.keyboard.type(`${username}@example.com`);
  await tabTo(page, page.getByLabel('Password', { exact: true }));
  await page.keyboard.type(password);
  await tabTo(page, page.getByLabel('Confirm password'));
  await page.keyboard.type(`${password} but different`);
  await tabTo(page, page.getByRole('button', { name: 'Create account' }));
  await pressEnterAndLoad(page);
  await expect(page.locator('.field-error', { hasText: 'The two passwords do not match.' })).toBeVisible();
  await expectFocusOnNewScreen(page, { errors: true });
  // Fix it: both passwords again (never echoed back), then submit with Enter from the last field.
  await tabTo(page, page.getByLabel('Password', { exact: true }));
  await page.keyboard.type(password);
  await tabTo(page, page.getByLabel('Confirm password'));
  await page.keyboard.type(password);
  await pressEnterAndLoad(page);
  await expect(page).toHaveURL(ACCOUNT_URL);
  await expectFocusOnNewScreen(page);

  // 2FA needs a verified address: open the link from the mail, as from the mailbox, then back to the account.
  // The server delivers to the test's SMTP catcher (and then drops the body from its outbox), so read it there.
  const verification = await mail.waitForMail({ to: `${username}@example.com`, subject: /verify your e-mail address/ });
  const link = verification.links.find((href) => new URL(href).pathname === ROUTES.verifyEmail);
  expect(link, 'the verification mail carries a link').toBeTruthy();
  await page.goto(link!);
  await expectFocusOnNewScreen(page);
  await page.goto(`${server.url}${ROUTES.manageAccount}`);
  await expectFocusOnNewScreen(page);

  // Turn on TOTP: read the secret as someone typing it into an app would, then type a code.
  await tabTo(page, page.getByRole('link', { name: 'Add an authentication app' }));
  await pressEnterAndLoad(page);
  await expect(page).toHaveURL(new RegExp(`${ROUTES.totpProvision}$`));
  await expectFocusOnNewScreen(page);
  const secret = (await page.getByLabel('Secret key').textContent())!.replace(/\s+/g, '');
  await tabTo(page, page.getByLabel('The 6-digit code your app shows now'));
  await page.keyboard.type('000000');
  await pressEnterAndLoad(page);
  await expectFocusOnNewScreen(page, { errors: true });
  await tabTo(page, page.getByLabel('The 6-digit code your app shows now'), { backward: true });
  await page.keyboard.press('Control+A');
  await page.keyboard.type(currentTotp(secret));
  await tabTo(page, page.getByRole('button', { name: 'Turn on' }));
  await pressEnterAndLoad(page);
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  await expectFocusOnNewScreen(page);
  const codes = (await page.locator('#recovery-codes code').allTextContents()).map((code) => code.trim());
  await tabTo(page, page.getByRole('link', { name: 'I have saved my recovery codes' }));
  await pressEnterAndLoad(page);
  await expectFocusOnNewScreen(page);
  // The burn step: one code typed back proves the set was saved.
  await tabTo(page, page.getByLabel('One of your new recovery codes'));
  await page.keyboard.type(codes[7]!);
  await pressEnterAndLoad(page);
  await expect(page).toHaveURL(ACCOUNT_URL);
  await expectFocusOnNewScreen(page);

  // Log out from the header (before the heading: Shift+Tab).
  await tabTo(page, page.getByRole('button', { name: 'Log out', exact: true }), { backward: true });
  await pressEnterAndLoad(page);
  await expect(page).toHaveURL(new RegExp(ROUTES.login));
  await expectFocusOnNewScreen(page);

  // Log in: password, then a wrong code (focus on the error), then the next code.
  await tabTo(page, page.getByLabel('Username'));
  await page.keyboard.type(username);
  await tabTo(page, page.getByLabel('Password'));
  await page.keyboard.type(password);
  await pressEnterAndLoad(page);
  await expect(page).toHaveURL(TWO_FACTOR_URL);
  await expectFocusOnNewScreen(page);
  const wrong = ['123456', '654321'].find((code) => ![-30_000, 0, 30_000, 60_000].some((offset) => currentTotp(secret, { at: Date.now() + offset }) === code))!;
  await tabTo(page, page.locator('input[name="totp_value"]'));
  await page.keyboard.type(wrong);
  await pressEnterAndLoad(page);
  await expect(page.getByRole('alert').getByText(/Invalid code/)).toBeVisible();
  await expectFocusOnNewScreen(page, { errors: true });
  await tabTo(page, page.locator('input[name="totp_value"]'));
  await page.keyboard.press('Control+A');
  // The set-up spent this step's code; the next step's is accepted (one step of clock drift).
  await page.keyboard.type(currentTotp(secret, { at: Date.now() + 30_000 }));
  await pressEnterAndLoad(page);
  await expect(page).toHaveURL(ACCOUNT_URL);
  await expectFocusOnNewScreen(page);
});
