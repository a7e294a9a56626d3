import { parseOtpauthUri, validateTotpAccount } from '@latchkey/shared';
import { mergeAccounts, newAccount, sameIdentity } from '../../vault/backup.js';
import { normalizeOrigin } from '../../vault/origin.js';
import { describeAccount } from '../accounts.js';
import type { Handler } from '../handler-context.js';
import { UserFacingError } from '../user-facing-error.js';

/** `add-account`: a pasted otpauth URI or typed fields, for one exact origin; never a duplicate. */
export const addAccount: Handler<'add-account'> = async (ctx, { account: input }) => {
  const vault = await ctx.requireOpen();
  const origin = normalizeOrigin(input.origin);
  const params =
    input.uri !== undefined && input.uri.trim() !== ''
      ? parseOtpauthUri(input.uri)
      : validateTotpAccount({ issuer: input.issuer ?? '', label: input.label ?? '', secret: input.secret ?? '' });
  const account = newAccount(params, origin, ctx.deps.now());
  const merged = mergeAccounts(vault.payload.accounts, [account]);
  // Named as the vault has it: the same secret may be stored under another name than the one typed now, and then
  // "This account is already in Latchkey (ACME: alice)" named another account than the one added (QA): what is
  // already there is the secret, stored as that account.
  const existing = merged.ranInto.get(account);
  if (existing) {
    if (merged.duplicates.length === 0) {
      throw new UserFacingError(
        `An account named ${describeAccount(existing)} for ${origin} already exists with a different secret. Delete or rename it first.`,
      );
    }
    throw new UserFacingError(
      sameIdentity(existing, account)
        ? `This account is already in Latchkey (${describeAccount(existing)}).`
        : `This secret is already in Latchkey for ${origin}, stored as ${describeAccount(existing)}.`,
    );
  }
  await ctx.save(vault, { ...vault.payload, accounts: merged.accounts });
  return { account: ctx.view(account) };
};
