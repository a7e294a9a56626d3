/**
 * JSON shapes of the server's JSON endpoints (DESIGN.md section 2), shared so the page scripts,
 * the extension and the tests read responses the same way.
 */

/**
 * Body of a failed JSON call: 4xx with one or more messages meant for people, and — when they are about
 * one form field — its name, so a page script can act on it (show the password field it was asked for)
 * without reading the words.
 */
export interface ApiFailure {
  /**
   * `restart`: where to start over, when this attempt can never succeed any more (the login's two-factor
   * token expired or was used): the page offers that link instead of a button that would only fail again.
   */
  fail: { errors: string[]; field?: string; restart?: string };
}

/** `POST /account/webauthn-authenticate/validate` success. */
export interface WebauthnAuthenticateSuccess {
  success: string;
  redirect_to: string;
}

/** `POST /manage/account/webauthn-provision/validate` success. */
export interface WebauthnProvisionSuccess {
  success: string;
  /** Where the page goes next (the recovery codes, when this key was the first second factor). */
  redirect_to?: string;
}

/** `GET /healthz`. */
export interface HealthResponse {
  ok: boolean;
}

export function isApiFailure(value: unknown): value is ApiFailure {
  if (typeof value !== 'object' || value === null || !('fail' in value)) return false;
  const fail = (value as { fail: unknown }).fail;
  return typeof fail === 'object' && fail !== null && Array.isArray((fail as { errors?: unknown }).errors);
}
