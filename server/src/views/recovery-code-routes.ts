/** The recovery-code pages beyond the shared contract's generate route (DESIGN.md section 2). */
export const RECOVERY_CODE_ROUTES = {
  /** The set just generated, shown once (generate answers 303 here). */
  show: '/manage/account/recovery-codes/',
  /** The burn step: one code of that set typed back. */
  verify: '/manage/account/recovery-codes/verify',
} as const;
