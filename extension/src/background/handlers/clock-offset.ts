import { tabOrigin } from '../../vault/origin.js';
import type { Handler } from '../handler-context.js';
import { ACCOUNT_ORIGINS_ITEM } from '../security-key-sites.js';
import { siteClockOffset } from '../site-clock-offset.js';

/**
 * `clock-offset`: how far the clock of the tab's site is from this computer's, for the popup's warning that codes
 * may be refused. Measured only where the extension already goes: the vault is open, the person has an account
 * on the tab's exact origin, and the extension holds host access to it (the index origins, or a grant made when
 * the account was added) — a page the person merely visits is never asked. The origin is the tab's, read here,
 * not one the popup names. Every refusal and failure is the same quiet "no reading".
 */
export const clockOffset: Handler<'clock-offset'> = async (ctx, { tabId }) => {
  const { siteClock, storage, session, now } = ctx.deps;
  const origin = tabOrigin(await ctx.deps.tabUrl(tabId));
  if (siteClock === undefined || origin === null) return { origin, offsetMs: null };
  // The session's key, not the vault: no decryption, and this request does not push the auto-lock back.
  if ((await session.get(now())) === null) return { origin, offsetMs: null };
  // The account origins kept beside the vault (security-key-sites.ts): exact origins, as the vault has them.
  const accountOrigins = (await storage.get([ACCOUNT_ORIGINS_ITEM]))[ACCOUNT_ORIGINS_ITEM];
  if (!Array.isArray(accountOrigins) || !accountOrigins.includes(origin)) return { origin, offsetMs: null };
  if (!(await siteClock.hasHostAccess(origin).catch(() => false))) return { origin, offsetMs: null };
  return { origin, offsetMs: await siteClockOffset(siteClock, origin, now) };
};
