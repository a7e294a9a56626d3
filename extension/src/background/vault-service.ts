import { OtpauthUriError } from '@latchkey/shared';
import { OriginError, originMatches } from '../vault/origin.js';
import { VaultAuthError, VaultFormatError } from '../vault/record.js';
import { VaultExistsError, VaultMissingError, VaultWriteError } from '../vault/vault-store.js';
import { fillAccount } from './fill-account.js';
import { createHandlerContext, type Handler, type ServiceDeps } from './handler-context.js';
import { handlers } from './handlers/index.js';
import type { ErrorCode, Request, Response } from './messages.js';
import { isWellFormedRequest } from './request-shape.js';
import { UserFacingError } from './user-facing-error.js';

export type { ServiceDeps } from './handler-context.js';

/**
 * Requests that neither read the vault nor write anything, so they need not wait their turn — and must not:
 * `tab-context` waits on the page (its probe runs once the page has loaded), and a page that takes its time
 * must not hold up Lock now or another popup's unlock behind it (see PAGE_TIMEOUT_MS in handler-context.ts).
 * `clock-offset` waits on the site's answer to one request (up to SITE_DATE_TIMEOUT_MS, fetch-site-date.ts).
 */
const UNQUEUED: ReadonlySet<Request['type']> = new Set(['tab-context', 'clock-offset']);

/**
 * The background's request dispatcher: one request at a time through the handler table
 * (handlers/index.ts), each answer `{ ok: true, ...payload }` or a message for the person.
 */
export function createVaultService(deps: ServiceDeps) {
  const ctx = createHandlerContext(deps);
  let queue: Promise<unknown> = Promise.resolve();

  /** One request at a time: a read-modify-write of the vault must not interleave with another. */
  function serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The keyboard command: fill the one account for the active tab's site. Returns false when the
   * person has to choose (locked, no match, several matches) so the caller can open the popup.
   */
  /**
   * The keyboard shortcut: fill the one account of the tab's site. Otherwise the popup opens (index.ts), and
   * it says why — the lock screen itself when locked, else the refusal noted here (it used to open with no word).
   */
  async function fillForTab(tabId: number): Promise<boolean> {
    return serialized(async () => {
      const current = await deps.session.get(deps.now());
      if (!current) return false;
      try {
        const vault = await ctx.requireOpen();
        const url = await deps.tabUrl(tabId);
        const matches = vault.payload.accounts.filter((a) => originMatches(a.origin, url));
        if (matches.length === 0) {
          ctx.noteShortcutRefusal(
            url === undefined
              ? 'The shortcut cannot see this tab’s site: Latchkey has no access to it. Use Fill below, or allow the site when adding its account.'
              : 'No account in your vault fills on this site. Add it, or check its “Fills on” site.',
          );
          return false;
        }
        if (matches.length > 1 || !matches[0]) {
          ctx.noteShortcutRefusal('Several accounts fill on this site: choose one and press its Fill.');
          return false;
        }
        await fillAccount(ctx, vault, matches[0], tabId);
        return true;
      } catch (error) {
        ctx.noteShortcutRefusal(toErrorResponse(error).error);
        return false;
      }
    });
  }

  /** Answer one popup request; never throws — errors become `{ ok: false, error }`. */
  async function handle<T extends Request['type']>(request: Extract<Request, { type: T }>): Promise<Response<T>> {
    // A known type with exactly its fields, before any handler runs (request-shape.ts).
    if (!isWellFormedRequest(request)) return { ok: false, error: 'Latchkey could not read that request. Close the popup and open it again.' };
    const handler = handlers[request.type] as unknown as Handler<T>;
    try {
      const run = () => handler(ctx, request);
      const result = await (UNQUEUED.has(request.type) ? run() : serialized(run));
      return { ok: true, ...result } as Response<T>;
    } catch (error) {
      return toErrorResponse(error);
    }
  }

  /**
   * The auto-lock alarm: lock only if the session has really run out. An alarm can fire late (after
   * sleep) or wait in the queue behind an unlock or other use that started the minutes again; locking
   * then would end a session the person just opened. One that fired early is armed again for the rest.
   */
  function lockIfDue(): Promise<void> {
    return serialized(async () => {
      const current = await deps.session.get(deps.now());
      if (!current) return ctx.lock();
      await deps.scheduleAutoLock((current.expiresAt - deps.now()) / 60_000);
    });
  }

  return { handle, lock: () => serialized(() => ctx.lock()), lockIfDue, fillForTab };
}

function toErrorResponse(error: unknown): { ok: false; error: string; code?: ErrorCode } {
  if (error instanceof UserFacingError) return { ok: false, error: error.message, ...(error.code ? { code: error.code } : {}) };
  if (error instanceof VaultAuthError) return { ok: false, error: 'Wrong passphrase.', code: 'wrong-passphrase' };
  // A link or field the person can correct: the popup puts the message on it.
  if (error instanceof OtpauthUriError) return { ok: false, error: error.message, code: 'invalid-input' };
  if (
    error instanceof OriginError ||
    error instanceof VaultFormatError ||
    error instanceof VaultExistsError ||
    error instanceof VaultMissingError ||
    error instanceof VaultWriteError
  ) {
    return { ok: false, error: error.message };
  }
  // Unexpected: say so plainly without leaking internals (never a secret: messages hold none).
  return { ok: false, error: `Something went wrong: ${error instanceof Error ? error.message : 'unknown error'}` };
}
