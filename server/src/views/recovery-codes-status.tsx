/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { RECOVERY_CODE_COUNT } from '@latchkey/shared';
import { RECOVERY_CODE_ROUTES } from './recovery-code-routes.js';

/** At or below this many codes left, the account page asks for a new set. */
const FEW_CODES_LEFT = 2;

/**
 * How many codes are left, and when to make new ones. None left is its own sentence: "0 of 8 … Generate a new set
 * soon" understated it, as the next lost factor now needs an administrator (review finding).
 */
export function RecoveryCodesLeft({ remaining }: { remaining: number }) {
  if (remaining === 0) {
    return (
      <p>
        <strong>You have no recovery codes left.</strong> Generate a new set now.
      </p>
    );
  }
  return (
    <p>
      <strong>{remaining}</strong> of {RECOVERY_CODE_COUNT} recovery codes left.{remaining <= FEW_CODES_LEFT ? ' Generate a new set soon.' : ''}
    </p>
  );
}

/**
 * The account page's reminder while the latest set is unconfirmed (issue 13 item 6): codes that were
 * never typed back may never have been saved.
 */
export function RecoveryCodesUnconfirmed({ unconfirmed }: { unconfirmed: boolean }) {
  if (!unconfirmed) return null;
  return (
    <div class="notice notice-warning" id="recovery-codes-unconfirmed">
      <p>
        <strong>Your recovery codes are unconfirmed.</strong> Type one of them back to show you saved them. If you did not save them, generate a new set.
      </p>
      <p>
        <a class="button" href={RECOVERY_CODE_ROUTES.verify}>
          Confirm a recovery code
        </a>
      </p>
    </div>
  );
}
