/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { EMAIL_MAX_LENGTH } from '../services/accounts.js';
import type { AddressWithLinkState, EmailAddress } from '../services/emails.js';
import { CsrfInput, Field, formatTime, Layout, type PageContext } from './layout.js';
import { PasswordField, ReauthField } from './reauth-field.js';
import { reauthHint } from './reauth-hint.js';

/** The address actions POST /manage/account/email understands (field `action`). */
export const EMAIL_ACTIONS = { add: 'add', resend: 'resend', makePrimary: 'make_primary', remove: 'remove' } as const;
export type EmailAction = (typeof EMAIL_ACTIONS)[keyof typeof EMAIL_ACTIONS];

/** Where the account page lists addresses (links from refusals point here). */
export const EMAIL_SECTION_ID = 'email-addresses';

/**
 * An address as the account page's section shows it. What it says of a link comes from booleans the service
 * worked out (the view has no clock, and views/render.ts lets a view put a string in, never read it).
 */
export interface AddressOnPage extends AddressWithLinkState {
  /**
   * For an unverified address that was never sent a link: when “Send link” works, e.g. "in 60 minutes" (the
   * per-mailbox cap held its registration's link back, services/verification-mail-cap.ts); '' when it works now.
   */
  sendableIn: string;
}

/**
 * What the primary address's notice says while it is not verified: which link, if any, and what to do. The address in
 * a `<bdi>`: one stored before addresses had to be ASCII (services/email-address.ts) may be right-to-left, and would
 * otherwise take the sentence's punctuation beside it into its own run.
 */
function UnverifiedPrimary({ address }: { address: AddressOnPage }) {
  const email = <bdi>{address.email}</bdi>;
  if (address.verifiedElsewhere) {
    return (
      <>
        {email} was verified by another account as well, and an address can belong to one account only, so its verification here was withdrawn (your security
        history says when). Add another address, verify it and make it your primary address.
      </>
    );
  }
  if (address.verificationWithdrawn) {
    return <>The verification of {email} was withdrawn (your security history says when): use “Resend link” below, then open the new link while logged in.</>;
  }
  if (address.verifySentAt === null) {
    return (
      <>
        No link has been sent to {email} yet: use “Send link” below{address.sendableIn === '' ? '' : ` ${address.sendableIn}`}, then open the link while logged
        in.
      </>
    );
  }
  if (address.linkExpired) {
    return <>The link we sent to {email} has expired (links work for 24 hours): use “Resend link” below, then open the new link while logged in.</>;
  }
  return <>Open the link we sent to {email} while logged in.</>;
}

/** The state of an unverified address's link, after "Not verified" in its row. */
function LinkStatus({ address }: { address: AddressOnPage }) {
  if (address.verifiedElsewhere) return <span class="small muted"> · verified by another account</span>;
  if (address.verificationWithdrawn) return <span class="small muted"> · verification withdrawn</span>;
  if (address.verifySentAt === null) {
    return <span class="small muted"> · no link yet{address.sendableIn === '' ? null : `; “Send link” works ${address.sendableIn}`}</span>;
  }
  return (
    <span class="small muted">
      {' '}
      · link sent {formatTime(address.verifySentAt)}
      {address.linkExpired ? ', expired' : null}
    </span>
  );
}

/** One button posting an action on one address. */
function AddressAction({
  page,
  address,
  action,
  label,
  danger = false,
}: {
  page: PageContext;
  address: EmailAddress;
  action: EmailAction;
  label: string;
  danger?: boolean;
}) {
  return (
    <form method="post" action={ROUTES.manageEmail} class="inline-form">
      <CsrfInput token={page.csrfToken} />
      <input type="hidden" name={FIELDS.emailAction} value={action} />
      <input type="hidden" name={FIELDS.emailId} value={String(address.id)} />
      <button type="submit" class={danger ? 'button button-danger' : 'button'} aria-label={`${label}: ${address.email}`}>
        {label}
      </button>
    </form>
  );
}

/** What the add form shows: the address typed, and the errors of a refused try. */
interface AddEmailFormProps {
  page: PageContext;
  /** Logged in or password confirmed within 5 minutes: no password field. */
  recentlyAuthenticated: boolean;
  value?: string | undefined;
  error?: string | undefined;
  passwordError?: string | undefined;
  /**
   * The add page asking for the password without an error (the window closed since the account page was
   * loaded without the field): focus goes to that field, whose hint says why, not to the heading that says nothing of it.
   */
  askingPassword?: boolean;
}

/**
 * The form that adds an address (on the account page, and again with its error on the add page). A
 * verified address can receive password-reset links, so adding one asks for the password outside the
 * 5-minute window (ASVS V3.7.1): a stolen session alone cannot add its own address and reset the password.
 */
export function AddEmailForm({ page, recentlyAuthenticated, value, error, passwordError, askingPassword = false }: AddEmailFormProps) {
  return (
    <form method="post" action={ROUTES.manageEmail} class="stack" novalidate>
      <CsrfInput token={page.csrfToken} />
      <input type="hidden" name={FIELDS.emailAction} value={EMAIL_ACTIONS.add} />
      <Field
        name={FIELDS.email}
        label="Add an e-mail address"
        type="email"
        value={value}
        error={error}
        autocomplete="email"
        maxLength={EMAIL_MAX_LENGTH}
        autofocus={Boolean(error)}
        hint="We send it a link; it is added once you open that link while logged in."
      />
      <ReauthField
        id="add-email-password"
        recentlyAuthenticated={recentlyAuthenticated}
        error={passwordError}
        autofocus={(passwordError !== undefined || askingPassword) && !error}
        purpose="adding an e-mail address"
      />
      <button type="submit" class="button">
        Add address
      </button>
    </form>
  );
}

/**
 * The account page's e-mail section: every address with its state, "resend" for unverified ones,
 * "make primary" and "remove" for the others, and the add form. Own component (the account page is shared).
 */
export function EmailAddressesSection({
  page,
  addresses,
  recentlyAuthenticated,
}: {
  page: PageContext;
  addresses: AddressOnPage[];
  recentlyAuthenticated: boolean;
}) {
  const primary = addresses.find((address) => address.primary);
  return (
    <section class="card" aria-labelledby={`${EMAIL_SECTION_ID}-heading`} id={EMAIL_SECTION_ID}>
      <h2 id={`${EMAIL_SECTION_ID}-heading`}>E-mail addresses</h2>
      {primary && !primary.verified ? (
        <div class="notice notice-warning">
          <p>
            <strong>Your primary address is not verified.</strong> <UnverifiedPrimary address={primary} /> Until then you cannot turn on two-factor
            authentication and get no security notices.
          </p>
        </div>
      ) : (
        <p class="hint">Security notices (new second factors, recovery codes used, password changes, failed logins) go to your primary address.</p>
      )}
      <ul class="address-list">
        {addresses.map((address) => (
          <li key={address.id}>
            <p class="address">
              <strong>
                <bdi>{address.email}</bdi>
              </strong>
              {address.primary ? ' (primary)' : null}
            </p>
            <p>
              {address.verified ? (
                <span class="status-on">
                  <strong>Verified</strong>
                </span>
              ) : (
                <span class="status-off">
                  <strong>Not verified</strong>
                </span>
              )}
              {address.verified ? null : <LinkStatus address={address} />}
            </p>
            {/* No "Send link" for an address another account has verified: its link could only fail. */}
            {address.primary && (address.verified || address.verifiedElsewhere) ? null : (
              <div class="actions">
                {!address.verified && !address.verifiedElsewhere ? (
                  <AddressAction
                    page={page}
                    address={address}
                    action={EMAIL_ACTIONS.resend}
                    label={address.verifySentAt === null ? 'Send link' : 'Resend link'}
                  />
                ) : null}
                {address.verified && !address.primary ? (
                  <AddressAction page={page} address={address} action={EMAIL_ACTIONS.makePrimary} label="Make primary" />
                ) : null}
                {!address.primary ? <AddressAction page={page} address={address} action={EMAIL_ACTIONS.remove} label="Remove" danger /> : null}
              </div>
            )}
          </li>
        ))}
      </ul>
      <AddEmailForm page={page} recentlyAuthenticated={recentlyAuthenticated} />
    </section>
  );
}

/**
 * The add form again: with its error (status 4xx) when an address could not be added, or asking for the
 * password when the 5-minute window closed after the account page was loaded without the field.
 */
export function AddEmailPage(props: AddEmailFormProps) {
  return (
    <Layout page={props.page} title="Add an e-mail address">
      <h1>Add an e-mail address</h1>
      <AddEmailForm {...props} askingPassword={!props.recentlyAuthenticated && props.error === undefined && props.passwordError === undefined} />
      <p>
        <a href={`${ROUTES.manageAccount}#${EMAIL_SECTION_ID}`}>Back to your account</a>
      </p>
    </Layout>
  );
}

/**
 * The answer to a verification link that cannot be used, or to adding a first second factor without a
 * verified primary address: what happened, and the way forward (the address list, with "Resend link").
 */
export function EmailProblemPage({ page, title, message }: { page: PageContext; title: string; message: string }) {
  return (
    <Layout page={page} title={title}>
      <h1>{title}</h1>
      <div class="notice notice-error" role="alert">
        <p>{message}</p>
      </div>
      <p>
        <a class="button button-primary" href={`${ROUTES.manageAccount}#${EMAIL_SECTION_ID}`}>
          Go to your e-mail addresses
        </a>
      </p>
    </Layout>
  );
}

/** What {@link ConfirmAddressActionPage} says for each action that asks for the password outside the 5-minute window. */
const CONFIRMATIONS = {
  [EMAIL_ACTIONS.makePrimary]: {
    title: 'Confirm your new primary address',
    question: (email: string) => (
      <>
        Make <bdi>{email}</bdi> your primary address?
      </>
    ),
    explanation: 'Security notices will go to this address instead of your current primary address, which is told of the change.',
    purpose: 'changing your primary address',
    button: 'Make primary',
    buttonClass: 'button button-primary',
  },
  [EMAIL_ACTIONS.remove]: {
    title: 'Confirm removing an address',
    question: (email: string) => (
      <>
        Remove <bdi>{email}</bdi> from your account?
      </>
    ),
    explanation: 'Password-reset links can no longer be sent to this verified address. Your primary address is told of the removal.',
    purpose: 'removing a verified address',
    button: 'Remove address',
    buttonClass: 'button button-danger',
  },
} as const;

/**
 * Making an address primary moves where security notices go, and removing a verified one takes away a way to
 * reset the password: each asks for the password unless logged in within 5 minutes (ASVS V3.7.1), on this page.
 */
export function ConfirmAddressActionPage({
  page,
  action,
  address,
  error,
}: {
  page: PageContext;
  action: keyof typeof CONFIRMATIONS;
  address: EmailAddress;
  error?: string | undefined;
}) {
  const words = CONFIRMATIONS[action];
  return (
    <Layout page={page} title={words.title}>
      <h1>{words.question(address.email)}</h1>
      <p>{words.explanation}</p>
      <form method="post" action={ROUTES.manageEmail} class="stack" novalidate>
        <CsrfInput token={page.csrfToken} />
        <input type="hidden" name={FIELDS.emailAction} value={action} />
        <input type="hidden" name={FIELDS.emailId} value={String(address.id)} />
        <PasswordField error={error} autofocus hint={reauthHint(words.purpose)} />
        <button type="submit" class={words.buttonClass}>
          {words.button}
        </button>
      </form>
      <p>
        <a href={`${ROUTES.manageAccount}#${EMAIL_SECTION_ID}`}>Back to your account</a>
      </p>
    </Layout>
  );
}
