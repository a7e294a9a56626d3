import { readFileSync } from 'node:fs';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { expect } from '@playwright/test';
import type { Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import {
  createSessionClient,
  createUserIn,
  currentTotp,
  type CreatedUser,
  type CreateUserOptions,
  type MailCatcher,
  type TestServer,
  type UserState,
} from '../../src/kit/index.js';
import { ACCOUNT_URL, enterTotp, logIn, TWO_FACTOR_URL } from '../journey-helpers.js';

/**
 * Every server page, in every state worth auditing, for the accessibility suite (axe-core WCAG 2.2
 * A/AA + no horizontal scroll at 320 px; see accessibility.spec.ts). Each entry gets its own server
 * and browser page. To audit a new page, add one line, e.g.
 *
 *   { name: 'home', open: visit('/') },
 *   { name: 'change password', open: asUser('totp', '/manage/account/change-password') },
 *
 * or write `open` yourself for a state only a click or a form post reaches (see the error states).
 */
export interface ServerPageState {
  /** Shown in the test title. */
  name: string;
  /** Brings `page` to the state to audit (the audit then runs on the page as it is); `mail` catches what the server sends. */
  open(page: Page, server: TestServer, mail: MailCatcher): Promise<void>;
  /**
   * Audited again in the dark colour scheme. The palette is one set of custom properties checked pair by
   * pair in server/src/views/color-contrast.test.ts; the states marked here show every component that
   * carries a colour of its own (each kind of notice, field errors, the header logged in and out, cards,
   * danger zone, badges, tables, pagination, the QR tile and secret, the recovery codes), so a dark axe
   * run on all 43 states (+16 s of the suite on 2 cores) would add little.
   */
  dark?: true;
}

/**
 * The widest names a user can have, none with a place to break a line: a 50-character username (the
 * most the server takes), a 64-character local part at a long domain, a 64-character key label. The
 * pages that show them must still reflow at 320 CSS px (WCAG 1.4.10).
 */
export function longNames(): CreateUserOptions & { keyLabel: string } {
  const username = `AMaintainerWithAnUnusuallyLongUnbrokenName${randomBytes(4).toString('hex')}`;
  return {
    username,
    email: `${username.toLowerCase()}atlongaddress@averylongsubdomainlabelwithoutbreaks.example.org`,
    keyLabel: 'MyYubiKey5NFCTheOneOnTheKeyringThatNeverLeavesTheHouseWithoutMe1',
  };
}

/** A page anyone reaches by its URL. */
export const visit =
  (path: string) =>
  async (page: Page, server: TestServer): Promise<void> => {
    await page.goto(`${server.url}${path}`);
  };

/**
 * Logs a new user in `state` in over HTTP (the password, then a TOTP code when asked: the server's real
 * login) and gives `page`'s browser the session's cookies. The login pages are states of their own
 * below; clicking through them again before every logged-in state cost each of those three page loads.
 */
export async function logInAs(page: Page, server: TestServer, state: UserState, options: CreateUserOptions = {}): Promise<CreatedUser> {
  const user = await createUserIn(server, state, options);
  // The browser's own user agent, so the account page describes this session as it would after a real login.
  const client = createSessionClient(server.url, { userAgent: await page.evaluate(() => navigator.userAgent) });
  let answer = await client.submit(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: user.password });
  if (answer.location && TWO_FACTOR_URL.test(answer.location)) {
    answer = await client.submit(answer.location, { [FIELDS.totpValue]: currentTotp(user.totpSecret!) });
  }
  expect(answer.status, answer.body.slice(0, 300)).toBe(303);
  expect(answer.location).toMatch(ACCOUNT_URL);
  await page.context().addCookies([...client.cookies].map(([name, value]) => ({ name, value, url: server.url, httpOnly: true, sameSite: 'Lax' as const })));
  return user;
}

/** `path` as a logged-in user in `state` sees it. */
export const asUser =
  (state: UserState, path: string, options?: () => CreateUserOptions) =>
  async (page: Page, server: TestServer): Promise<void> => {
    await logInAs(page, server, state, options?.());
    await page.goto(`${server.url}${path}`);
  };

/**
 * `path` for a user with everything on the account page: an app, a key, recovery codes, this browser
 * remembered, two more sessions and a remembered phone elsewhere, and more than a page of history
 * (with a long IPv6 address, the widest thing the history shows). Its username, address and key label
 * are the longest the server takes ({@link longNames}).
 */
export const asBusyUser =
  (path: string) =>
  async (page: Page, server: TestServer): Promise<void> => {
    const { services } = server;
    const { keyLabel, ...names } = longNames();
    const user = await createUserIn(server, 'totp+key+recovery', names);
    const elsewhere = {
      ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348',
      userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
    };
    const phone = {
      ip: '203.0.113.50',
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
    };
    for (let i = 0; i < 32; i++)
      await services.events.record({ userId: user.id, tag: 'account:login:failure', origin: i % 2 ? elsewhere : phone, details: { reason: 'password' } });
    await services.sessions.create(user.id, {
      userAgent: elsewhere.userAgent,
      eventId: await services.events.record({ userId: user.id, tag: 'account:login:success', origin: elsewhere, details: { method: 'totp' } }),
    });
    await services.sessions.create(user.id, { userAgent: phone.userAgent });
    await services.rememberedDevices.issue((await services.accounts.findById(user.id))!, phone);
    await services.webauthn.rename(user.id, user.securityKeyLabel, keyLabel, elsewhere);
    await logIn(page, server.url, user);
    await page.getByLabel('Remember this device for 30 days').check();
    await enterTotp(page, currentTotp(user.totpSecret!));
    await expect(page).toHaveURL(ACCOUNT_URL);
    await page.goto(`${server.url}${path}`);
  };

/** The two-factor page of a user in `state`, right after the password step. */
export const atTwoFactor =
  (state: UserState) =>
  async (page: Page, server: TestServer): Promise<void> => {
    const user = await createUserIn(server, state);
    await logIn(page, server.url, user);
    await expect(page).toHaveURL(TWO_FACTOR_URL);
  };

/** A wrong TOTP code: never one of the three the server would accept now. */
function wrongCode(user: CreatedUser): string {
  const valid = new Set([-30_000, 0, 30_000].map((offset) => currentTotp(user.totpSecret!, { at: Date.now() + offset })));
  return ['123456', '654321', '111111'].find((code) => !valid.has(code))!;
}

const HISTORY = '/manage/account/history/';

export const SERVER_PAGES: ServerPageState[] = [
  { name: 'home', open: visit('/') },
  { name: 'home, logged in', open: asUser('no-2fa', '/') },
  { name: 'log out', open: asUser('no-2fa', ROUTES.logout) },
  {
    name: 'login, after logging out',
    dark: true,
    async open(page, server) {
      await asUser('no-2fa', ROUTES.logout)(page, server);
      await page.getByRole('main').getByRole('button', { name: 'Log out' }).click();
      await expect(page).toHaveURL(new RegExp(ROUTES.login));
    },
  },
  { name: 'login', open: visit(ROUTES.login) },
  // The warning-styled notice a browser meets when its session was ended elsewhere (contrast of its colours).
  { name: 'login: session ended elsewhere', open: visit(`${ROUTES.login}?ended=elsewhere`), dark: true },
  {
    name: 'login: wrong password',
    dark: true,
    async open(page, server) {
      const user = await createUserIn(server, 'no-2fa');
      await logIn(page, server.url, { username: user.username, password: `${user.password}x` });
      await expect(page.getByText('The username or password is incorrect.')).toBeVisible();
    },
  },
  { name: 'register', open: visit(ROUTES.register) },
  {
    name: 'register: mistakes',
    dark: true,
    async open(page, server) {
      await page.goto(`${server.url}${ROUTES.register}`);
      await page.getByLabel('Username').fill('-bad-');
      await page.getByLabel('Email address').fill('someone@example.org');
      await page.getByLabel('Password', { exact: true }).fill('short');
      await page.getByLabel('Confirm password').fill('different');
      await page.getByRole('button', { name: 'Create account' }).click();
      await expect(page.locator('[aria-invalid="true"]').first()).toBeVisible();
    },
  },
  { name: 'two-factor: app', open: atTwoFactor('totp') },
  { name: 'two-factor: app, key and recovery codes', open: atTwoFactor('totp+key+recovery') },
  {
    name: 'two-factor: wrong code',
    async open(page, server) {
      const user = await createUserIn(server, 'totp');
      await logIn(page, server.url, user);
      await enterTotp(page, wrongCode(user));
      await expect(page.getByRole('alert').getByText(/Invalid code/)).toBeVisible();
    },
  },
  {
    name: 'two-factor: locked out',
    async open(page, server) {
      // The page says so on arrival (no code needs to be tried first).
      await atTwoFactor('locked-out')(page, server);
      await expect(page.getByText(/Too many failed attempts|locked/i).first()).toBeVisible();
    },
  },
  {
    name: 'two-factor: expired login',
    async open(page, server) {
      const user = await createUserIn(server, 'totp');
      await logIn(page, server.url, user);
      server.clock.advance(5 * 60_000 + 1_000);
      await enterTotp(page, currentTotp(user.totpSecret!));
      await expect(page.getByText(/Your login has expired/)).toBeVisible();
    },
  },
  {
    name: 'recovery-code login',
    async open(page, server) {
      await atTwoFactor('totp+key+recovery')(page, server);
      await page.getByRole('link', { name: 'Log in with a recovery code' }).click();
      await expect(page.getByLabel('Recovery code', { exact: true })).toBeVisible();
    },
  },
  {
    name: 'recovery-code login: wrong code',
    async open(page, server) {
      await atTwoFactor('totp+key+recovery')(page, server);
      await page.getByRole('link', { name: 'Log in with a recovery code' }).click();
      await page.getByLabel('Recovery code', { exact: true }).fill('0123456789abcdef');
      await page.getByRole('button', { name: 'Verify' }).click();
      await expect(page.getByText('Invalid recovery code.')).toBeVisible();
    },
  },
  { name: 'account: password only', open: asUser('no-2fa', ROUTES.manageAccount), dark: true },
  { name: 'account: everything on, sessions, devices, long history', open: asBusyUser(ROUTES.manageAccount), dark: true },
  { name: 'security history, page 2', open: asBusyUser(`${HISTORY}?page=2`), dark: true },
  { name: 'security history: no such page', open: asUser('no-2fa', `${HISTORY}?page=9`) },
  {
    // Only migration 010 records this event, so it is written as 010 writes it (no origin, `by: "migration"`).
    // The longest address the server takes, quoted in the row: the table must not outgrow its card at any width.
    name: 'security history: a verification withdrawn by migration 010, a long address',
    async open(page, server) {
      const { email } = longNames();
      const user = await logInAs(page, server, 'no-2fa', { email });
      await server.services.db
        .insertInto('events')
        .values({
          user_id: user.id,
          tag: 'account:email:verification_withdrawn',
          ip: null,
          user_agent: null,
          details: JSON.stringify({ email, by: 'migration' }),
          created_at: Date.now(),
        })
        .execute();
      await page.goto(`${server.url}${HISTORY}`);
      await expect(page.getByRole('cell', { name: `E-mail address “${email}” no longer verified` })).toBeVisible();
    },
  },
  // A long username: it is in the set-up link and the QR code's description.
  { name: 'authentication app set-up', open: asUser('no-2fa', ROUTES.totpProvision, longNames), dark: true },
  {
    name: 'authentication app set-up: wrong code',
    async open(page, server) {
      await asUser('no-2fa', ROUTES.totpProvision)(page, server);
      await page.getByLabel('The 6-digit code your app shows now').fill('000000');
      await page.getByRole('button', { name: 'Turn on' }).click();
      await expect(page.locator('[aria-invalid="true"]').first()).toBeVisible();
    },
  },
  {
    name: 'recovery codes, shown once',
    dark: true,
    async open(page, server) {
      await asUser('totp', ROUTES.manageAccount, longNames)(page, server);
      await page.getByRole('button', { name: 'Generate new recovery codes' }).click();
      await expect(page.locator('#recovery-codes code')).toHaveCount(8);
    },
  },
  { name: 'security keys', open: asBusyUser(ROUTES.webauthnProvision) },
  { name: 'security keys: none yet', open: asUser('no-2fa', ROUTES.webauthnProvision) },
  {
    name: 'security keys: rename refused',
    async open(page, server) {
      await asUser('totp+key+recovery', ROUTES.webauthnProvision)(page, server);
      await page.locator('summary').filter({ hasText: 'Rename' }).first().click();
      await page.getByLabel('New name').fill('   ');
      await page.getByLabel('New name').evaluate((input) => input.closest('form')!.setAttribute('novalidate', ''));
      await page.getByRole('button', { name: /^Rename “/ }).click();
      // Said in the summary and on the field of the rename form, shown open again with what was typed.
      await expect(page.getByRole('alert').getByText('Give the security key a name.')).toBeVisible();
      await expect(page.getByLabel('New name')).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByLabel('New name')).toHaveAccessibleDescription('Give the security key a name.');
    },
  },
  {
    name: 'end a session: confirm with password',
    async open(page, server) {
      const user = await logInAs(page, server, 'no-2fa');
      await server.services.sessions.create(user.id, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' });
      server.clock.advance(6 * 60_000); // past the 5-minute re-authentication window
      await page.goto(`${server.url}${ROUTES.manageAccount}`);
      await page.getByRole('button', { name: /^End session/ }).click();
      await expect(page.getByRole('heading', { name: 'End this session?' })).toBeVisible();
    },
  },
  {
    name: 'account: delete refused (the username mistyped)',
    async open(page, server) {
      const user = await logInAs(page, server, 'no-2fa');
      await page.goto(`${server.url}${ROUTES.manageAccount}`);
      await page.getByText('Delete this account').click();
      await page.getByLabel('Your username').fill(`${user.username}x`);
      await page.locator('#delete-password').fill(user.password);
      await page.getByRole('button', { name: 'Delete account' }).click();
      await expect(page.locator('#delete-username')).toBeFocused();
      await expect(page.locator('#delete-username-error')).toContainText(`Type your username, ${user.username}`);
    },
  },
  {
    name: 'login, after downloading the data and deleting the account',
    async open(page, server) {
      const user = await logInAs(page, server, 'totp');
      await page.goto(`${server.url}${ROUTES.manageAccount}`);
      // Its data first, as the card suggests: a real download of the whole history, no secret in it.
      // Logged in just now, so no password is asked (the state below is the one past 5 minutes).
      await expect(page.locator('#download-data-password')).toHaveCount(0);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download your data' }).click()]);
      expect(download.suggestedFilename()).toMatch(new RegExp(`^latchkey-account-${user.username}-\\d{4}-\\d\\d-\\d\\d\\.json$`));
      const data = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { account: { username: string }; securityHistory: unknown[] };
      expect(data.account.username).toBe(user.username);
      expect(data.securityHistory.length).toBeGreaterThan(0);
      expect(JSON.stringify(data)).not.toContain(user.password);
      await page.getByText('Delete this account').click();
      await page.getByLabel('Your username').fill(user.username);
      await page.locator('#delete-password').fill(user.password);
      await page.getByRole('button', { name: 'Delete account' }).click();
      await expect(page.getByText('Your account was deleted, with everything it held.')).toBeVisible();
      expect(await server.services.accounts.findByUsername(user.username)).toBeUndefined();
    },
  },
  {
    // ASVS V3.7.1: past the 5-minute window the download asks for the password, as the page's other
    // actions do. A wrong one comes back on the page, its message next to the focused field, no file;
    // the right one gives the file. The audit is of the refused page.
    name: 'account: download your data past 5 minutes, a wrong password refused',
    async open(page, server) {
      const user = await logInAs(page, server, 'no-2fa');
      server.clock.advance(6 * 60_000); // past the 5-minute re-authentication window
      await page.goto(`${server.url}${ROUTES.manageAccount}`);
      let downloads = 0;
      page.on('download', () => downloads++);
      const field = page.getByRole('region', { name: 'Security history' }).getByLabel('Your password');
      await expect(field).toHaveAccessibleDescription(/so downloading your data needs your password/);
      await field.fill(`${user.password}x`);
      await page.getByRole('button', { name: 'Download your data' }).click();
      await expect(page.locator('#download-data-password-error')).toHaveText('That password is not correct.');
      await expect(field).toBeFocused();
      expect(downloads).toBe(0);
      expect(await server.services.events.list(user.id)).toContainEqual(expect.objectContaining({ tag: 'account:reauthenticate:failure' }));
      await field.fill(user.password);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download your data' }).click()]);
      const data = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { securityHistory: Array<{ event: string }> };
      expect(data.securityHistory.slice(0, 2).map((event) => event.event)).toEqual(['account:data:exported', 'account:reauthenticate:failure']);
      expect(downloads).toBe(1);
    },
  },
  {
    name: 'form expired (CSRF)',
    async open(page, server) {
      await page.goto(`${server.url}${ROUTES.login}`);
      await page.locator(`input[name="${FIELDS.csrfToken}"]`).evaluate((input) => ((input as HTMLInputElement).value = 'stale'));
      await page.getByLabel('Username').fill('someone');
      await page.getByLabel('Password').fill('a long enough password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect(page.getByRole('heading', { name: 'Form expired' })).toBeVisible();
    },
  },
  // Issue 13's pages: addresses, password change and reset, the recovery-code burn step.
  {
    name: 'account: unverified address',
    dark: true,
    async open(page, server) {
      const user = await createUserIn(server, 'no-2fa', { emailVerified: false });
      await logIn(page, server.url, user);
      await expect(page).toHaveURL(ACCOUNT_URL);
    },
  },
  {
    // The address as a registration leaves it when its mailbox's verification mails were capped: no link, none
    // sent (services/emails.ts). Set in the database, as this server's limits are lifted; a long address, and
    // the notice says no link was sent rather than asking to open one.
    name: 'account: no verification link sent yet (the mailbox capped at registration), a long address',
    async open(page, server) {
      const { email } = longNames();
      const user = await logInAs(page, server, 'no-2fa', { email, emailVerified: false });
      await server.services.db.updateTable('user_emails').set({ verify_nonce: null, verify_sent_at: null }).where('user_id', '=', user.id).execute();
      await page.goto(`${server.url}${ROUTES.manageAccount}`);
      await expect(page.getByText(`No link has been sent to ${email} yet`)).toBeVisible();
      await expect(page.getByText('Open the link we sent')).toHaveCount(0);
    },
  },
  {
    // The login is older than 5 minutes when "Add address" is pressed (the account page was loaded inside them):
    // the add page asks for the password, its field focused and its hint saying why.
    name: 'add an address: the password asked',
    async open(page, server) {
      const user = await logInAs(page, server, 'no-2fa');
      await page.goto(`${server.url}${ROUTES.manageAccount}`);
      await server.services.db
        .updateTable('sessions')
        .set({ authenticated_at: Date.now() - 6 * 60_000 })
        .where('user_id', '=', user.id)
        .execute();
      await page.getByLabel('Add an e-mail address').fill(`second.${user.username}@example.org`);
      await page.getByRole('button', { name: 'Add address' }).click();
      await expect(page.getByRole('heading', { name: 'Add an e-mail address' })).toBeVisible();
      await expect(page.getByLabel('Your password')).toBeFocused();
    },
  },
  { name: 'verify e-mail: forged link', open: asUser('no-2fa', `${ROUTES.verifyEmail}?token=forged`) },
  { name: 'change password', open: asUser('no-2fa', ROUTES.changePassword) },
  {
    name: 'change password: mistakes',
    async open(page, server) {
      await asUser('no-2fa', ROUTES.changePassword)(page, server);
      await page.getByLabel('Current password').fill('not the password at all');
      await page.getByRole('button', { name: 'Change password' }).click();
      await expect(page.locator('[aria-invalid="true"]').first()).toBeVisible();
    },
  },
  { name: 'forgot password', open: visit(ROUTES.requestPasswordReset) },
  {
    name: 'forgot password: link sent',
    async open(page, server) {
      await page.goto(`${server.url}${ROUTES.requestPasswordReset}`);
      await page.getByLabel('Username or e-mail address').fill('nobody-in-particular');
      await page.getByRole('button', { name: 'Send reset link' }).click();
      await expect(page.getByRole('heading', { name: 'Check your e-mail' })).toBeVisible();
    },
  },
  {
    name: 'reset password: new password form',
    async open(page, server, mail) {
      const user = await createUserIn(server, 'totp');
      await server.services.passwordResets.request(user.username);
      const message = await mail.waitForMail({ to: user.email, subject: /reset your password/ });
      const link = message.links.find((href) => new URL(href).pathname === ROUTES.resetPassword);
      expect(link, 'the reset mail carries a link').toBeTruthy();
      await page.goto(link!);
      await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
    },
  },
  { name: 'reset password: forged link', open: visit(`${ROUTES.resetPassword}?token=forged`) },
  {
    name: 'confirm recovery codes (burn step)',
    async open(page, server) {
      await asUser('totp', ROUTES.manageAccount)(page, server);
      await page.getByRole('button', { name: 'Generate new recovery codes' }).click();
      await page.getByRole('link', { name: 'I have saved my recovery codes' }).click();
      await expect(page.getByRole('heading', { name: 'Confirm your recovery codes' })).toBeVisible();
    },
  },
  { name: 'not found', open: visit('/no-such-page') },
  // A form-only address opened in the browser: 405 with what to do instead.
  { name: 'method not allowed', open: visit(ROUTES.webauthnAuthenticateValidate) },
];
