import { randomBytes } from 'node:crypto';
import { NO_ORIGIN } from '../../../server/src/services/index.js';
import type { TestServer } from './start-test-server.js';
import { currentTotp } from './current-totp.js';
import { softAuthenticator, type SoftAuthenticator } from './soft-authenticator.js';

/** The 2FA situations a test (or the dev seed) can ask for. */
export type UserState = 'no-2fa' | 'totp' | 'key' | 'totp+key+recovery' | 'locked-out';

export const USER_STATES: readonly UserState[] = ['no-2fa', 'totp', 'key', 'totp+key+recovery', 'locked-out'];

export interface CreateUserOptions {
  /** Default: `<state>-<random>`, lower case (usernames are unique per server). */
  username?: string;
  /** Default: a random 24-character password. */
  password?: string;
  /** Default: `<username>@example.com`. */
  email?: string;
  /** Base32 TOTP secret to enable (states with TOTP). Default: the server's own generator. */
  totpSecret?: string;
  /**
   * Whether the address starts verified (no verification mail is queued). Default true: a user with 2FA
   * has a verified primary address, as the pages require before the first second factor.
   */
  emailVerified?: boolean;
}

export interface CreatedUser {
  id: string;
  username: string;
  email: string;
  password: string;
  state: UserState;
  /** Base32 secret, for states with TOTP; compute codes with `currentTotp`. */
  totpSecret?: string;
  /** The 8 recovery codes as shown to the user (states with recovery codes). */
  recoveryCodes?: string[];
  /**
   * The security key (states with a key): use it over HTTP directly, or copy its credential into a
   * browser with `(await addVirtualAuthenticator(page)).importCredential(user.securityKey.credentials[0])`.
   */
  securityKey?: SoftAuthenticator;
  /** The label the key was registered under. */
  securityKeyLabel?: string;
}

/**
 * Creates a user in a given two-factor state through the server's own services — the same rules,
 * events and storage as the pages use, without clicking through them:
 *
 * - `no-2fa`: password only.
 * - `totp`: an authentication app (TOTP) enabled.
 * - `key`: one security key (a {@link softAuthenticator}) registered.
 * - `totp+key+recovery`: TOTP, a key and 8 recovery codes.
 * - `locked-out`: TOTP enabled, then as many wrong codes entered as the per-account limit allows, so
 *   the next second-factor attempt is refused with "Too many failed attempts…" (the failures carry no
 *   client IP, so other users on the same test server are not affected).
 *
 * @example
 * ```ts
 * const bob = await createUserIn(server, 'totp+key+recovery');
 * await page.goto(`${server.url}/account/login/`);
 * await page.getByLabel('Username').fill(bob.username);
 * await page.getByLabel('Password').fill(bob.password);
 * await page.getByRole('button', { name: 'Log in' }).click();
 * await page.fill('input[name="totp_value"]', currentTotp(bob.totpSecret!));
 * ```
 */
export async function createUserIn(server: Pick<TestServer, 'services' | 'config'>, state: UserState, options: CreateUserOptions = {}): Promise<CreatedUser> {
  if (!USER_STATES.includes(state)) throw new TypeError(`createUserIn: unknown state ${JSON.stringify(state)}; one of ${USER_STATES.join(', ')}`);
  const { services } = server;
  const username = options.username ?? `${state.replace(/\W+/g, '-')}-${randomBytes(4).toString('hex')}`;
  const password = options.password ?? randomBytes(18).toString('base64url');
  const email = options.email ?? `${username}@example.com`;
  const registered = await services.accounts.register({ username, email, password }, NO_ORIGIN, { emailVerified: options.emailVerified ?? true });
  const created: CreatedUser = { id: registered.id, username: registered.username, email, password, state };

  if (state === 'totp' || state === 'totp+key+recovery' || state === 'locked-out') {
    created.totpSecret = options.totpSecret ?? services.totp.generateSecret();
    await services.totp.enable(registered.id, created.totpSecret);
  }
  if (state === 'key' || state === 'totp+key+recovery') {
    const key = softAuthenticator();
    const label = 'Test key';
    const creation = await services.webauthn.registrationOptions({ id: registered.id, username: registered.username }, label);
    const response = key.createRegistrationResponse(creation, { origin: server.config.origin });
    await services.webauthn.register(registered.id, response, label, NO_ORIGIN);
    created.securityKey = key;
    created.securityKeyLabel = label;
  }
  if (state === 'totp+key+recovery') {
    created.recoveryCodes = await services.recoveryCodes.generate(registered.id);
  }
  if (state === 'locked-out') {
    await exhaustSecondFactorAttempts(server, created);
  }
  return created;
}

async function exhaustSecondFactorAttempts(server: Pick<TestServer, 'services' | 'config'>, user: CreatedUser): Promise<void> {
  const { services } = server;
  const step = await services.login.passwordStep({ username: user.username, password: user.password }, NO_ORIGIN);
  if (step.kind !== 'authenticated') throw new Error(`createUserIn(locked-out): the password step failed: ${JSON.stringify(step)}`);
  const token = await services.loginTokens.issue(step.user);
  const valid = new Set([-30_000, 0, 30_000].map((offset) => currentTotp(user.totpSecret!, { at: Date.now() + offset })));
  const wrong = ['000000', '111111', '222222', '333333'].find((code) => !valid.has(code))!;
  for (let attempt = 1; attempt <= server.config.rateLimits.secondFactorPerAccount.max; attempt++) {
    const result = await services.login.totpStep({ token, code: wrong }, NO_ORIGIN);
    if (result.kind === 'blocked') return;
    if (result.kind !== 'invalid') throw new Error(`createUserIn(locked-out): a wrong code was not refused: ${JSON.stringify(result)}`);
  }
  const check = await services.login.beginSecondFactor(token, NO_ORIGIN);
  if (check.kind !== 'blocked') throw new Error('createUserIn(locked-out): the account is not locked after the limit of wrong codes');
}
