/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { SecurityEvent } from '../services/events.js';
import type { SupportContact } from '../config.js';
import { type AddressOnPage, EmailAddressesSection } from './email-addresses-section.js';
import { PasswordField, ReauthField } from './reauth-field.js';
import { PasswordSection } from './password-section.js';
import { PASSWORD_ROUTES } from './password-routes.js';
import { RecoveryCodesLeft, RecoveryCodesUnconfirmed } from './recovery-codes-status.js';
import { WhatIsTwoFactor, WhyRecoveryCodes } from './help.js';
import { CONFIRM_FIELD, ConfirmCheckbox, CsrfInput, ErrorSummary, Field, Layout, formatTime, type PageContext } from './layout.js';
import { RememberedDeviceList, type RememberedDeviceSummary } from './remembered-device-list.js';
import { HISTORY_ROUTE, SecurityHistoryTable } from './security-history.js';
import { SessionList, type SessionSummary } from './session-list.js';
import { SecurityKeyList } from './webauthn-provision-page.js';

/** A security key as the account page lists it. */
export interface SecurityKeySummary {
  label: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface AccountPageProps {
  page: PageContext;
  email: string;
  /** Every address of the account, with its link's state (views/email-addresses-section.tsx). */
  addresses: AddressOnPage[];
  hasTotp: boolean;
  totpEnabledAt: number | null;
  securityKeys: SecurityKeySummary[];
  recoveryCodesRemaining: number;
  /** The latest set was shown but no code of it was typed back yet (the burn step). */
  recoveryCodesUnconfirmed: boolean;
  /** When false, changing 2FA asks for the password again (not authenticated in the last 5 minutes). */
  recentlyAuthenticated: boolean;
  /** The newest page of the security history. */
  events: SecurityEvent[];
  /** How many history pages there are (a link to the older ones when more than one). */
  historyPages: number;
  sessions: SessionSummary[];
  devices: RememberedDeviceSummary[];
  /** Errors shown in place, next to the form that was refused (by field name), when a post comes back. */
  problems?: AccountPageProblems;
  /** LATCHKEY_SUPPORT_CONTACT: how someone who lost every factor and code reaches the administrators (null: unset). */
  support?: SupportContact | null;
}

/** The account page's forms that can be refused in place. */
export interface AccountPageProblems {
  totpRemove?: Record<string, string>;
  recoveryCodes?: Record<string, string>;
  revokeSessions?: Record<string, string>;
  downloadData?: Record<string, string>;
  deleteAccount?: Record<string, string>;
}

/** Why the two confirmations exist, shared by the page and the routes that check them. */
export const CONFIRM_TEXT = {
  lastMethod: 'I understand that two-factor authentication turns off and my recovery codes are deleted.',
  lastMethodMissing: 'This is your last second factor: tick the box to confirm that two-factor authentication turns off.',
  newCodes: 'I understand that my current recovery codes stop working.',
  newCodesMissing: 'Tick the box to confirm: your current recovery codes stop working when new ones are generated.',
} as const;

/** The account page: two-factor status and methods, recovery codes, remembered devices, security history. */
export function AccountPage(props: AccountPageProps) {
  const { page } = props;
  const twoFactorOn = props.hasTotp || props.securityKeys.length > 0;
  const totpRemove = props.problems?.totpRemove ?? {};
  const codes = props.problems?.recoveryCodes ?? {};
  const revoke = props.problems?.revokeSessions ?? {};
  const download = props.problems?.downloadData ?? {};
  const deletion = props.problems?.deleteAccount ?? {};
  return (
    <Layout page={page} title="Account security">
      <h1>Account security</h1>
      <p class="muted">
        <bdi>{page.username}</bdi> · <bdi>{props.email}</bdi>
      </p>

      {/* A refused form: the errors summed up here (announced), and each next to its field (focused). */}
      <ErrorSummary
        errors={[...Object.values(totpRemove), ...Object.values(codes), ...Object.values(revoke), ...Object.values(download), ...Object.values(deletion)]}
      />

      <EmailAddressesSection page={page} addresses={props.addresses} recentlyAuthenticated={props.recentlyAuthenticated} />

      <section class="card" aria-labelledby="status-heading">
        <h2 id="status-heading">Two-factor authentication</h2>
        {twoFactorOn ? (
          <p class="status-on">
            <strong>On.</strong> Logging in asks for a second factor after your password.
          </p>
        ) : (
          <p class="status-off">
            <strong>Off.</strong> Your account is protected by your password only. Add an authentication app or a security key below.
          </p>
        )}
      </section>

      <section class="card" aria-labelledby="totp-heading">
        <h2 id="totp-heading">Authentication app</h2>
        {props.hasTotp ? (
          <>
            <p>Set up on {formatTime(props.totpEnabledAt)}.</p>
            {/* Open with the error next to the field after a refused removal: no dead end. */}
            <details open={Object.keys(totpRemove).length > 0 || undefined}>
              <summary>Remove authentication app</summary>
              <form method="post" action={ROUTES.totpProvisionRemove} class="stack">
                <CsrfInput token={page.csrfToken} />
                {props.securityKeys.length === 0 ? (
                  <>
                    <p class="notice notice-warning">
                      This is your only second factor: removing it turns two-factor authentication off and deletes your recovery codes.
                    </p>
                    <ConfirmCheckbox
                      id="totp-remove-confirm"
                      label={CONFIRM_TEXT.lastMethod}
                      error={totpRemove[CONFIRM_FIELD]}
                      autofocus={totpRemove[CONFIRM_FIELD] !== undefined}
                    />
                  </>
                ) : null}
                <Field
                  name={FIELDS.password}
                  id="totp-remove-password"
                  label="Confirm with your password"
                  type="password"
                  autocomplete="current-password"
                  error={totpRemove[FIELDS.password]}
                  autofocus={totpRemove[FIELDS.password] !== undefined && totpRemove[CONFIRM_FIELD] === undefined}
                />
                <button type="submit" class="button button-danger">
                  Remove authentication app
                </button>
              </form>
            </details>
          </>
        ) : (
          <p>
            <a class="button" href={ROUTES.totpProvision}>
              Add an authentication app
            </a>
          </p>
        )}
      </section>

      <section class="card" aria-labelledby="keys-heading">
        <h2 id="keys-heading">Security keys</h2>
        <SecurityKeyList page={page} keys={props.securityKeys} onlyFactor={!props.hasTotp && props.securityKeys.length === 1} />
        <p>
          <a class="button" href={ROUTES.webauthnProvision}>
            {props.securityKeys.length > 0 ? 'Add or manage security keys' : 'Add a security key'}
          </a>
        </p>
      </section>

      <section class="card" aria-labelledby="codes-heading">
        <h2 id="codes-heading">Recovery codes</h2>
        {twoFactorOn ? (
          <>
            <RecoveryCodesLeft remaining={props.recoveryCodesRemaining} />
            <RecoveryCodesUnconfirmed unconfirmed={props.recoveryCodesUnconfirmed} />
            <form method="post" action={ROUTES.recoveryCodesGenerate} class="stack">
              <CsrfInput token={page.csrfToken} />
              <ReauthField
                recentlyAuthenticated={props.recentlyAuthenticated}
                id="recovery-codes-password"
                error={codes[FIELDS.password]}
                autofocus={codes[FIELDS.password] !== undefined && codes[CONFIRM_FIELD] === undefined}
              />
              {props.recoveryCodesRemaining > 0 ? (
                <ConfirmCheckbox
                  id="recovery-codes-confirm"
                  label={CONFIRM_TEXT.newCodes}
                  error={codes[CONFIRM_FIELD]}
                  autofocus={codes[CONFIRM_FIELD] !== undefined}
                />
              ) : null}
              <button type="submit" class="button">
                Generate new recovery codes
              </button>
              {/* With none left, no code stops working: the sentence (and the box above) would only alarm. */}
              {props.recoveryCodesRemaining > 0 ? <p class="hint">Your current codes stop working as soon as new ones are generated.</p> : null}
            </form>
          </>
        ) : (
          <p>Recovery codes become available once two-factor authentication is on.</p>
        )}
      </section>

      <PasswordSection />

      <section class="card" aria-labelledby="devices-heading">
        <h2 id="devices-heading">Remembered devices</h2>
        <p>
          Browsers where you chose “Remember this device for 30 days” skip the second factor. Forget them all if you lost a device or logged in on a computer
          that is not yours.
        </p>
        <RememberedDeviceList page={page} devices={props.devices} />
        {props.devices.length > 0 ? (
          <form method="post" action={ACCOUNT_ROUTES.forgetDevices}>
            <CsrfInput token={page.csrfToken} />
            <button type="submit" class="button">
              Forget remembered devices
            </button>
          </form>
        ) : null}
      </section>

      <section class="card" aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Sessions</h2>
        <SessionList page={page} sessions={props.sessions} />
        {/* Ending sessions leaves the password as it was, so whoever knows it can log in again; a password change also ends the other sessions (ASVS V3.3.3). */}
        <p>
          Ends every session of this account, including this one — on other browsers and devices too. Remembered devices are not forgotten; use Forget
          remembered devices for that. Someone who knows your password can log in again: <a href={PASSWORD_ROUTES.changePassword}>change your password</a> to
          stop them.
        </p>
        <form method="post" action={ROUTES.revokeSessions} class="stack">
          <CsrfInput token={page.csrfToken} />
          <ReauthField
            recentlyAuthenticated={props.recentlyAuthenticated}
            purpose="ending sessions"
            id="sessions-password"
            error={revoke[FIELDS.password]}
            autofocus={revoke[FIELDS.password] !== undefined}
          />
          <button type="submit" class="button button-danger">
            Log out of all sessions
          </button>
        </form>
      </section>

      <section class="card" aria-labelledby="history-heading">
        <h2 id="history-heading">Security history</h2>
        <SecurityHistoryTable events={props.events} caption="Recent security events, newest first" />
        {props.historyPages > 1 ? (
          <p>
            <a href={`${HISTORY_ROUTE}?page=2`}>Older events</a>
          </p>
        ) : null}
        <form method="post" action={ACCOUNT_ROUTES.downloadData} class="stack">
          <CsrfInput token={page.csrfToken} />
          <p class="muted small">
            Everything this index holds about your account, with the whole history, as a JSON file: addresses, two-factor methods (never their secrets),
            sessions, remembered devices and every security event.
          </p>
          {/* The file names every address and browser that used the account: the same 5-minute rule as the other actions (ASVS V3.7.1). */}
          <ReauthField
            recentlyAuthenticated={props.recentlyAuthenticated}
            purpose="downloading your data"
            id="download-data-password"
            error={download[FIELDS.password]}
            autofocus={download[FIELDS.password] !== undefined}
          />
          <button type="submit" class="button">
            Download your data
          </button>
        </form>
      </section>

      <section class="card card-danger" aria-labelledby="delete-heading">
        <h2 id="delete-heading">Delete account</h2>
        <p>
          Deletes this account for good: its two-factor methods, recovery codes, sessions, remembered devices, e-mail addresses and security history. Its
          username,{' '}
          <strong>
            <bdi>{page.username}</bdi>
          </strong>
          , cannot be registered again. A notice goes to your verified primary address. To keep your security history, use <strong>Download your data</strong>{' '}
          (above) first.
        </p>
        {/* Open with the error next to its field after a refused try: no dead end. */}
        <details open={Object.keys(deletion).length > 0 || undefined}>
          <summary>Delete this account</summary>
          <form method="post" action={ACCOUNT_ROUTES.deleteAccount} class="stack">
            <CsrfInput token={page.csrfToken} />
            <Field
              name={DELETE_ACCOUNT_FIELDS.username}
              id="delete-username"
              label="Your username"
              autocomplete="off"
              // Refused for the password: the name was right, so it stays (QA: it had to be typed again).
              value={deletion[FIELDS.password] !== undefined ? (page.username ?? undefined) : undefined}
              error={deletion[DELETE_ACCOUNT_FIELDS.username]}
              autofocus={deletion[DELETE_ACCOUNT_FIELDS.username] !== undefined}
              hint="Type it to confirm that this account is the one to delete."
            />
            <PasswordField
              id="delete-password"
              error={deletion[FIELDS.password]}
              autofocus={deletion[DELETE_ACCOUNT_FIELDS.username] === undefined && deletion[FIELDS.password] !== undefined}
              hint="Asked every time: deleting cannot be undone."
            />
            <button type="submit" class="button button-danger">
              Delete account
            </button>
          </form>
        </details>
      </section>

      <WhatIsTwoFactor />
      <WhyRecoveryCodes support={props.support ?? null} />
    </Layout>
  );
}

/** Routes this part adds beyond the shared contract. */
export const ACCOUNT_ROUTES = {
  forgetDevices: '/manage/account/forget-devices',
  deleteAccount: '/manage/account/delete',
  downloadData: '/manage/account/data',
} as const;

/** The delete form's own field (the password is `FIELDS.password`). */
export const DELETE_ACCOUNT_FIELDS = { username: 'confirm_username' } as const;
