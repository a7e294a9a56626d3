/**
 * The re-authentication field's words, in one place for the server's views (reauth-field.tsx) and for the
 * add-key page's script, which shows the field the page rendered hidden once the page has been open past
 * the 5 minutes (client/webauthn-provision.ts).
 */

/** The field's label. */
export const PASSWORD_LABEL = 'Your password';

/** What most re-authentications are for. */
export const TWO_FACTOR_PURPOSE = 'changing two-factor settings';

/** Why the password is asked: "You last proved your identity more than 5 minutes ago, so {purpose} needs your password." */
export function reauthHint(purpose: string): string {
  return `You last proved your identity more than 5 minutes ago, so ${purpose} needs your password.`;
}
