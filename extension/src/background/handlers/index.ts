import type { Handler } from '../handler-context.js';
import type { Request } from '../messages.js';
import { addAccount } from './add-account.js';
import { changePassphrase } from './change-passphrase.js';
import { clockOffset } from './clock-offset.js';
import { codes } from './codes.js';
import { create } from './create.js';
import { deleteAccount } from './delete-account.js';
import { eraseVault } from './erase-vault.js';
import { exportVault } from './export.js';
import { fill } from './fill.js';
import { importAccounts } from './import.js';
import { lock } from './lock.js';
import { saveSettings } from './save-settings.js';
import { securityKey } from './security-key.js';
import { status } from './status.js';
import { tabContext } from './tab-context.js';
import { unlock } from './unlock.js';
import { updateAccount } from './update-account.js';

/** The background's routes: one handler per popup request type (the compiler checks none is missing). */
export const handlers: { [K in Request['type']]: Handler<K> } = {
  status,
  create,
  unlock,
  lock,
  'erase-vault': eraseVault,
  codes,
  'tab-context': tabContext,
  'clock-offset': clockOffset,
  'add-account': addAccount,
  'update-account': updateAccount,
  'delete-account': deleteAccount,
  fill,
  'security-key': securityKey,
  'save-settings': saveSettings,
  'change-passphrase': changePassphrase,
  export: exportVault,
  import: importAccounts,
};
