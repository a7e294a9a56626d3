/**
 * `fetch` for the page scripts' JSON calls: sends the page's CSRF token in `X-CSRF-Token`, and never
 * throws — a failure comes back as one readable message (the server's own words when it sent
 * `{fail:{errors}}`), so callers have a single error path.
 */
import { FIELDS, isApiFailure } from '@latchkey/shared';

/** `field`: the form field the server's refusal is about, when it named one; `restart`: where to start over (ApiFailure). */
export type JsonResult<T> = { ok: true; data: T } | { ok: false; message: string; field?: string; restart?: string };

export const NETWORK_MESSAGE = 'Could not reach the server. Check your connection and try again.';
const UNEXPECTED_MESSAGE = 'The server could not handle the request. Reload the page and try again.';

export async function postJson<T>(url: string, body: unknown, csrfToken: string): Promise<JsonResult<T>> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', [FIELDS.csrfHeader]: csrfToken },
      body: JSON.stringify(body ?? {}),
    });
  } catch {
    return { ok: false, message: NETWORK_MESSAGE };
  }
  let data: unknown;
  try {
    data = await response.json();
  } catch {
    data = undefined;
  }
  if (isApiFailure(data) && data.fail.errors.length > 0) {
    const { errors, field, restart } = data.fail;
    return {
      ok: false,
      message: errors.join(' '),
      ...(typeof field === 'string' ? { field } : {}),
      ...(typeof restart === 'string' && isSafeRedirect(restart) ? { restart } : {}),
    };
  }
  if (!response.ok || data === undefined) return { ok: false, message: UNEXPECTED_MESSAGE };
  return { ok: true, data: data as T };
}

/** The CSRF token the server rendered into the page (hidden form field), preferring the given form's. */
export function readCsrfToken(form: HTMLFormElement | null): string {
  const selector = `input[name="${FIELDS.csrfToken}"]`;
  const input = form?.querySelector<HTMLInputElement>(selector) ?? document.querySelector<HTMLInputElement>(selector);
  return input?.value ?? '';
}

/** Only same-origin paths are followed after a ceremony, so a tampered response cannot send people elsewhere. */
export function isSafeRedirect(target: unknown): target is string {
  return typeof target === 'string' && target.startsWith('/') && !target.startsWith('//') && !target.startsWith('/\\');
}
