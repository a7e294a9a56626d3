import { ROUTES } from '@latchkey/shared';

/** The recovery-code pages beyond the generate route (DESIGN.md section 2). */
export const RECOVERY_CODE_ROUTES = {
  /** The set just generated, shown once (generate answers 303 here). */
  show: ROUTES.recoveryCodesShow,
  /** The burn step: one code of that set typed back. */
  verify: ROUTES.recoveryCodesVerify,
} as const;
