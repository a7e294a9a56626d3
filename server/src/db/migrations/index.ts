import type { Migration } from 'kysely';
import * as initial from './001-initial.js';
import * as housekeepingIndexes from './002-housekeeping-indexes.js';
import * as webauthnLabelKey from './003-webauthn-label-key.js';
import * as totpGuesses from './004-totp-guesses.js';
import * as mail from './005-mail.js';
import * as passwordResetsAndCodeConfirmation from './006-password-resets-and-code-confirmation.js';
import * as sessionsAndDevices from './007-sessions-and-devices.js';
import * as deletedUsernames from './008-deleted-usernames.js';
import * as keyCheck from './009-key-check.js';
import * as emailKeys from './010-email-keys.js';
import * as webauthnChallengeLogin from './011-webauthn-challenge-login.js';

/**
 * Every migration, in order. Listed statically (not read from a folder) so the compiled server
 * and the test runner see exactly the same set. Add new ones as `NNN-name.ts` and list them here.
 */
export const migrations: Record<string, Migration> = {
  '001-initial': initial,
  '002-housekeeping-indexes': housekeepingIndexes,
  '003-webauthn-label-key': webauthnLabelKey,
  '004-totp-guesses': totpGuesses,
  '005-mail': mail,
  '006-password-resets-and-code-confirmation': passwordResetsAndCodeConfirmation,
  '007-sessions-and-devices': sessionsAndDevices,
  '008-deleted-usernames': deletedUsernames,
  '009-key-check': keyCheck,
  '010-email-keys': emailKeys,
  '011-webauthn-challenge-login': webauthnChallengeLogin,
};
