import { FIELDS, ROUTES } from '@latchkey/shared';

/** Password change and reset pages (DESIGN.md section 2). */
export const PASSWORD_ROUTES = {
  changePassword: ROUTES.changePassword,
  requestPasswordReset: ROUTES.requestPasswordReset,
  resetPassword: ROUTES.resetPassword,
  /** Where a successful reset lands (a GET, so the success page survives a reload). */
  resetPasswordDone: '/account/reset-password/done',
} as const;

/** The form field of the reset request. */
export const USERNAME_OR_EMAIL = FIELDS.usernameOrEmail;
