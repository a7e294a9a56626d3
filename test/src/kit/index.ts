/**
 * @latchkey/test — a kit for testing a Latchkey login flow end to end (see the README, Testing your login flow).
 * Every helper lives in its own file, named after it.
 */
// The server's paths and form field names, for tests outside this repository (which cannot import @latchkey/shared).
export { ROUTES, FIELDS } from '@latchkey/shared';
export { softAuthenticator, SoftAuthenticatorError } from './soft-authenticator.js';
export type {
  SoftAuthenticator,
  SoftAuthenticatorOptions,
  SoftCredential,
  RegistrationContext,
  AuthenticationContext,
} from './soft-authenticator.js';
// What softAuthenticator answers, and the ceremony options it takes (from the server's JSON endpoints).
export type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
export { currentTotp } from './current-totp.js';
export type { CurrentTotpOptions } from './current-totp.js';
export { createSessionClient } from './create-session-client.js';
export type { CreateSessionClientOptions, SessionClient, SessionResponse } from './create-session-client.js';
export { addVirtualAuthenticator } from './add-virtual-authenticator.js';
export type { SavedCredential, VirtualAuthenticator, VirtualAuthenticatorOptions, VirtualCredential } from './add-virtual-authenticator.js';
export { launchBrowserWithExtension, DEFAULT_EXTENSION_PATH } from './launch-browser-with-extension.js';
export type { BrowserWithExtension, LaunchBrowserWithExtensionOptions } from './launch-browser-with-extension.js';
export { launchFirefoxWithExtension, DEFAULT_FIREFOX_EXTENSION_PATH, FIREFOX_EXECUTABLE } from './launch-firefox-with-extension.js';
export type { FirefoxWithExtension, LaunchFirefoxWithExtensionOptions, OpenFirefoxPopupOptions } from './launch-firefox-with-extension.js';
export { openPopup } from './open-popup.js';
export type { OpenPopupOptions } from './open-popup.js';
export { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE, CHROMIUM_HEADLESS_SHELL_EXECUTABLE } from './chromium.js';
export { startTestServer } from './start-test-server.js';
// Production's request limits, which the test server lifts: `startTestServer({ config: { requestLimits: DEFAULT_REQUEST_LIMITS } })`.
export { DEFAULT_REQUEST_LIMITS } from '../../../server/src/config.js';
export type { StartTestServerOptions, TestServer, TestClock } from './start-test-server.js';
export { createUserIn, USER_STATES } from './create-user-in.js';
export type { CreatedUser, CreateUserOptions, UserState } from './create-user-in.js';
export { createVault } from './create-vault.js';
export type { CreateVaultOptions } from './create-vault.js';
export { unlockVault } from './unlock-vault.js';
export type { UnlockVaultOptions } from './unlock-vault.js';
export { readDevSeed } from './read-dev-seed.js';
export type { DevSeed, DevSeedUser, ReadDevSeedOptions } from './read-dev-seed.js';
export { startMailCatcher } from './start-mail-catcher.js';
export type { CaughtMail, MailCatcher, MailMatch } from './start-mail-catcher.js';
