/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { RECOVERY_CODE_ROUTES } from './recovery-code-routes.js';

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
