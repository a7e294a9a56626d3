/**
 * The server contract (DESIGN.md section 2) as constants, so the server, the extension and the tests
 * cannot drift apart on a path or a field name. The two-factor page's names match pypi.org's own page,
 * which is why the extension fills there too.
 */
export const ROUTES = {
  home: '/',
  register: '/account/register/',
  login: '/account/login/',
  twoFactor: '/account/two-factor/',
  webauthnAuthenticateOptions: '/account/webauthn-authenticate/options',
  webauthnAuthenticateValidate: '/account/webauthn-authenticate/validate',
  recoveryCode: '/account/recovery-code/',
  verifyEmail: '/account/verify-email/',
  requestPasswordReset: '/account/request-password-reset/',
  resetPassword: '/account/reset-password/',
  logout: '/account/logout/',
  manageAccount: '/manage/account/',
  totpProvision: '/manage/account/totp-provision',
  totpProvisionImage: '/manage/account/totp-provision/image',
  totpProvisionRemove: '/manage/account/totp-provision/remove',
  webauthnProvision: '/manage/account/webauthn-provision',
  webauthnProvisionOptions: '/manage/account/webauthn-provision/options',
  webauthnProvisionValidate: '/manage/account/webauthn-provision/validate',
  webauthnProvisionDelete: '/manage/account/webauthn-provision/delete',
  manageEmail: '/manage/account/email',
  recoveryCodesGenerate: '/manage/account/recovery-codes/generate',
  recoveryCodesShow: '/manage/account/recovery-codes/',
  recoveryCodesVerify: '/manage/account/recovery-codes/verify',
  changePassword: '/manage/account/change-password',
  revokeSessions: '/manage/account/sessions/revoke',
  endSession: '/manage/account/sessions/end',
  forgetDevice: '/manage/account/remembered-devices/forget',
  webauthnProvisionRename: '/manage/account/webauthn-provision/rename',
  securityHistory: '/manage/account/history/',
  healthz: '/healthz',
} as const;

export type RoutePath = (typeof ROUTES)[keyof typeof ROUTES];

/** Form field and DOM names the extension and tests rely on. */
export const FIELDS = {
  csrfToken: 'csrf_token',
  csrfHeader: 'X-CSRF-Token',
  username: 'username',
  email: 'email',
  password: 'password',
  newPassword: 'new_password',
  passwordConfirm: 'password_confirm',
  usernameOrEmail: 'username_or_email',
  next: 'next',
  twoFactorToken: 'token',
  totpValue: 'totp_value',
  recoveryCodeValue: 'recovery_code_value',
  rememberDevice: 'remember_device',
  label: 'label',
  /** Address management (POST /manage/account/email): `add`, `resend`, `make_primary`, `remove`. */
  emailAction: 'action',
  /** The `user_emails` row an address action applies to. */
  emailId: 'email_id',
} as const;

/** DOM hooks on the two-factor page (same ids as pypi.org). */
export const DOM = {
  totpInputSelector: 'input[name="totp_value"]',
  oneTimeCodeSelector: 'input[autocomplete="one-time-code"]',
  webauthnBeginButtonId: 'webauthn-auth-begin',
  webauthnFormId: 'webauthn-auth-form',
} as const;

/** Origins of the public indexes the extension is built for (exact scheme + host + port). */
export const INDEX_ORIGINS = ['https://pypi.org', 'https://test.pypi.org'] as const;
