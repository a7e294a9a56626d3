/** Password change and reset pages (DESIGN.md section 2). */
export const PASSWORD_ROUTES = {
  changePassword: '/manage/account/change-password',
  requestPasswordReset: '/account/request-password-reset/',
  resetPassword: '/account/reset-password/',
  /** Where a successful reset lands (a GET, so the success page survives a reload). */
  resetPasswordDone: '/account/reset-password/done',
} as const;

/** The form field of the reset request. */
export const USERNAME_OR_EMAIL = 'username_or_email';
