import { validateTotpAccount } from '@latchkey/shared';
import { normalizeOrigin } from '../../vault/origin.js';
import type { VaultAccount } from '../../vault/payload.js';
import { findAccount } from '../accounts.js';
import type { Handler } from '../handler-context.js';

/** `update-account`: rename an account or change the origin it fills on (the secret never changes). */
export const updateAccount: Handler<'update-account'> = async (ctx, { id, issuer, label, origin }) => {
  const vault = await ctx.requireOpen();
  const current = findAccount(vault, id);
  const params = validateTotpAccount({ ...current, issuer, label });
  const updated: VaultAccount = { ...current, ...params, origin: normalizeOrigin(origin) };
  const accounts = vault.payload.accounts.map((a) => (a.id === id ? updated : a));
  await ctx.save(vault, { ...vault.payload, accounts });
  return { account: ctx.view(updated) };
};
