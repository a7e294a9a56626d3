import type { Kysely } from 'kysely';
import { secondFactorLeft } from '../second-factor-left.js';
import { isolate, ROUTES } from '@latchkey/shared';
import type { SupportContact } from '../../config.js';
import type { Database } from '../../db/schema.js';
import { describeUserAgent } from '../../views/describe-user-agent.js';
import type { Clock } from '../clock.js';
import { emailKey } from '../email-address.js';
import { EVENT_TAGS, type EventFollowUp, type EventRead, type EventTag, type RecordedEvent } from '../events.js';
import { composeMail, type MailContent } from './compose-mail.js';
import { createMailOutbox } from './mail-outbox.js';
import { unlinkable } from './unlinkable.js';

/** `mail_outbox.kind` of the notice an account's deletion mails: the one queued mail the deletion keeps. */
export const ACCOUNT_DELETED_NOTICE_KIND = 'notice:account-deleted';

/** Throttled notices (each kind on its own: failed second steps, the second step paused, a key that may have been copied): the first after a successful login, then at most one per hour. */
export const FAILURE_NOTICE_INTERVAL_MS = 60 * 60_000;

/** What a notice template gets: the event, the account's name and the facts some notices add. */
export interface NoticeContext {
  username: string;
  event: RecordedEvent & { details: Record<string, unknown>; createdAt: number };
  /** Unused recovery codes after this event (read in the event's transaction). */
  recoveryCodesLeft: number;
  /** A removal took the last second factor: 2FA is off (read in the removal's transaction, `method-removed` only). */
  twoFactorOff: boolean;
  /**
   * A security key or an unused recovery code is left, so the owner can log in without the authentication app
   * (read in the event's transaction, `totp-guess-budget-spent` only).
   */
  otherFactorLeft: boolean;
  /** The address this notice goes to (a notice may need to say whether something was sent here or elsewhere). */
  recipient: string;
  /** Where the account page is (LATCHKEY_ORIGIN + /manage/account/). */
  accountUrl: string;
  /** Where a password reset is asked for (LATCHKEY_ORIGIN + /account/request-password-reset/): no login needed. */
  resetUrl: string;
  siteName: string;
  /** LATCHKEY_SUPPORT_CONTACT: how to reach the administrators (null: unset). */
  support: SupportContact | null;
}

interface NoticeTemplate {
  /** `mail_outbox.kind`, `notice:` + a name. */
  kind: string;
  /**
   * Who gets it: the primary verified address (default); the previous primary (address changes); or the
   * primary verified address unless it is `details.email` itself (a new address: its owner is the one to tell).
   */
  recipient?: 'previous-primary' | 'primary-unless-it';
  /** Throttled notices are sent only when {@link shouldSendThrottled} agrees. */
  throttled?: boolean;
  /** Sent only for events whose details pass this (default: every event of the tag). */
  sentWhen?(details: Record<string, unknown>): boolean;
  compose(context: NoticeContext): Omit<MailContent, 'greeting'>;
}

const METHOD_NAMES: Record<string, string> = { totp: 'an authentication app', webauthn: 'a security key', recovery_code: 'a recovery code' };

/**
 * A security key's label as notices quote it: a session alone can rename a key, so a label must never become a
 * link in the owner's mail ({@link unlinkable}); and it is the one value a notice quotes that can be right-to-left,
 * so it is isolated ({@link isolate}: FSI … PDI in the text part, a `<bdi>` in the HTML part), or the sentence's
 * direction would draw the label's own end ("مفتاح!", "2 مفتاح") on the wrong side of it. Defanged first, then
 * isolated: the isolate is around the whole quoted text, and a link finder meets `[.]` inside it as before.
 * Usernames (ASCII since the first release) and addresses (stored with an ASCII local part and domain,
 * services/email-address.ts) stay bare: they cannot reorder an English sentence, and the characters would go with
 * a copied address into a form that refuses them.
 */
const keyLabel = (label: string) => `“${isolate(unlinkable(label))}”`;

const methodName = (details: Record<string, unknown>) => {
  if (details.method === 'webauthn' && typeof details.label === 'string') return `the security key ${keyLabel(details.label)}`;
  return (typeof details.method === 'string' && METHOD_NAMES[details.method]) || 'a second factor';
};

/**
 * Time (UTC, named) and, when known, the address and browser of the request: enough for the owner to
 * recognise (or not) what happened — a browser is what a person recognises ("that was my laptop"). The
 * browser is named as the account page names it (browser, major version, platform, from fixed lists), never
 * the raw User-Agent header: that is the client's to choose, any length, and could carry anything.
 */
const when = ({ event }: NoticeContext) => {
  const browser = event.origin.userAgent ? describeUserAgent(event.origin.userAgent) : null;
  const using = browser === null ? '' : browserInSentence(browser);
  return `This happened on ${new Date(event.createdAt).toUTCString()}${event.origin.ip ? ` from the IP address ${event.origin.ip}` : ''}${using}.`;
};

/**
 * " using …" for a browser as the security history names it. One the server cannot name still has its platform
 * named when it is known, as the history shows it ("Unknown browser on Linux" → "an unknown browser on Linux":
 * QA, the notice dropped the platform the history showed). With neither known there is nothing to recognise,
 * and the sentence leaves the browser out.
 */
function browserInSentence(browser: string): string {
  if (browser === 'Unknown browser') return '';
  return ` using ${browser.startsWith('Unknown browser') ? `an unknown browser${browser.slice('Unknown browser'.length)}` : browser}`;
}

const IF_NOT_YOU = 'If this was not you, someone may know your password: log in, change your password and review your two-factor methods.';

const review = (context: NoticeContext) => ({ label: 'Review your account', url: context.accountUrl });

/**
 * The last line of every notice: a notice may be the first sign that someone else holds the account, and
 * the owner who can no longer log in (second factors and recovery codes gone, or changed by someone else)
 * has one way back, an administrator's reset after checking who they are (NIST SP 800-63B 6.1.2.3). With
 * LATCHKEY_SUPPORT_CONTACT unset it says so without an address rather than with a link that leads nowhere.
 */
const lockedOut = ({ support }: NoticeContext): NonNullable<MailContent['contact']> => {
  const lead =
    'Locked out, with your second factors and recovery codes lost? Only the administrators of this index can let you back in, after verifying your identity';
  return support ? { lead: `${lead}: contact them at`, link: { label: support.label, url: support.href } } : { lead: `${lead}: contact them.`, link: null };
};

/** For the notices whose last sentence already says to contact the administrators: where, when it is set. */
const reachAdministrators = ({ support }: NoticeContext): MailContent['contact'] =>
  support ? { lead: 'The administrators of this index can be reached at', link: { label: support.label, url: support.href } } : undefined;

/**
 * The link of a password notice: if it was not the owner, someone else now holds a password the owner does
 * not know, and the account page is behind a login with it. A reset (by username or address) needs no login.
 */
const resetPassword = (context: NoticeContext) => ({ label: 'Reset your password', url: context.resetUrl });

/**
 * Event tag → the notice it mails (DESIGN.md section 2: a notice for every 2FA change, recovery codes
 * generated or used, password changed or reset, address changed and second-factor failures; ASVS
 * V2.5.5 / V3.7.1 ask that the user be told of changes to their authenticators). Notices never carry
 * a secret — no code, no TOTP secret — only what happened, when, and a link to the account page.
 */
export const SECURITY_NOTICES: Partial<Record<EventTag, NoticeTemplate>> = {
  [EVENT_TAGS.methodAdded]: {
    kind: 'notice:method-added',
    compose: (c) => ({
      subject: `${c.siteName}: two-factor method added`,
      paragraphs: [`${capitalise(methodName(c.event.details))} was added as a second factor to your account “${c.username}”.`, when(c)],
      action: review(c),
      after: [IF_NOT_YOU],
      contact: lockedOut(c),
    }),
  },
  [EVENT_TAGS.methodRemoved]: {
    kind: 'notice:method-removed',
    // QA: removing the last factor read exactly like removing one of two, and the owner was not told that
    // logging in now takes the password alone — the one thing someone who removed it would want.
    compose: (c) => ({
      subject: c.twoFactorOff ? `${c.siteName}: two-factor authentication turned off` : `${c.siteName}: two-factor method removed`,
      paragraphs: [
        `${capitalise(methodName(c.event.details))} was removed from your account “${c.username}”.`,
        ...(c.twoFactorOff
          ? [
              'It was the last second factor: two-factor authentication is now off, and the recovery codes were deleted. Logging in asks for the password alone.',
            ]
          : []),
        when(c),
      ],
      action: review(c),
      after: [IF_NOT_YOU],
      contact: lockedOut(c),
    }),
  },
  [EVENT_TAGS.recoveryCodesGenerated]: {
    kind: 'notice:recovery-codes-generated',
    compose: (c) => ({
      subject: `${c.siteName}: new recovery codes generated`,
      // `voided`: the unused codes the new set replaced. The first set (with the first second factor)
      // replaced none, and saying older codes "stopped working" alarmed new users (QA finding 6).
      paragraphs: [
        typeof c.event.details.voided === 'number' && c.event.details.voided > 0
          ? `A new set of recovery codes was generated for your account “${c.username}”. Every older recovery code stopped working.`
          : `A set of recovery codes was generated for your account “${c.username}”.`,
        when(c),
      ],
      action: review(c),
      after: [IF_NOT_YOU],
      contact: lockedOut(c),
    }),
  },
  [EVENT_TAGS.recoveryCodeUsed]: {
    kind: 'notice:recovery-code-used',
    compose: (c) => ({
      subject: `${c.siteName}: a recovery code was used`,
      paragraphs: [
        `A recovery code was used on your account “${c.username}”. It cannot be used again.`,
        // QA: the last one used read "0 recovery codes are left. Generate a new set … before you run out."
        ...(c.recoveryCodesLeft === 0
          ? ['That was your last recovery code: generate a new set from your account page now.']
          : [
              c.recoveryCodesLeft === 1 ? '1 recovery code is left.' : `${c.recoveryCodesLeft} recovery codes are left.`,
              ...(c.recoveryCodesLeft <= 2 ? ['Generate a new set from your account page before you run out.'] : []),
            ]),
        when(c),
      ],
      action: review(c),
      after: [IF_NOT_YOU],
      contact: lockedOut(c),
    }),
  },
  [EVENT_TAGS.passwordChanged]: {
    kind: 'notice:password-changed',
    compose: (c) => ({
      subject: `${c.siteName}: your password was changed`,
      paragraphs: [`The password of your account “${c.username}” was changed. Every other session was logged out.`, when(c)],
      action: resetPassword(c),
      after: ['If this was not you, someone else knows your password: reset it at once with the link above (or “Forgot password?” on the login page).'],
      contact: lockedOut(c),
    }),
  },
  [EVENT_TAGS.passwordReset]: {
    kind: 'notice:password-reset',
    compose: (c) => {
      // The link may have gone to another verified address than this one: say which (QA: "sent to this
      // address" was wrong when someone added and verified their own address, then reset through it).
      const sentTo = typeof c.event.details.sent_to === 'string' ? c.event.details.sent_to : null;
      const elsewhere = sentTo !== null && sentTo.trim().toLowerCase() !== c.recipient.trim().toLowerCase();
      return {
        subject: `${c.siteName}: your password was reset`,
        paragraphs: [
          `The password of your account “${c.username}” was reset through a link sent to ${elsewhere ? sentTo : sentTo ? 'this address' : 'an address of the account'}. Every session was logged out; two-factor authentication, if you use it, stays on.`,
          when(c),
        ],
        action: resetPassword(c),
        after: [
          elsewhere
            ? `If this was not you, whoever reads ${sentTo} took your account: reset your password again with the link above (by your username, so the link comes to this address), then remove ${sentTo} from your account.`
            : 'If this was not you, reset your password again with the link above and check who can read this mailbox.',
        ],
        contact: lockedOut(c),
      };
    },
  },
  [EVENT_TAGS.primaryEmailChanged]: {
    kind: 'notice:primary-email-changed',
    recipient: 'previous-primary',
    compose: (c) => ({
      subject: `${c.siteName}: your primary e-mail address changed`,
      paragraphs: [
        `The primary e-mail address of your account “${c.username}” is now ${String(c.event.details.to)}, instead of this one. Security notices go to the new address from now on.`,
        when(c),
      ],
      action: review(c),
      after: [IF_NOT_YOU],
      contact: lockedOut(c),
    }),
  },
  // Once verified, an address can receive password reset links: the owner must hear of it at the address
  // they already trust (QA: a stolen session could add and verify its own address, then reset the password
  // through it without the current password, and the owner heard only of the reset).
  [EVENT_TAGS.emailVerified]: {
    kind: 'notice:email-verified',
    recipient: 'primary-unless-it',
    // Verified by an operator (`npm run admin -- verify-email`, `details.by` "admin"): no session did it, so the
    // notice says who did, as the security history does (QA: it read "If this was not you, someone is logged in
    // as you", sending the owner after an intruder who was never there).
    compose: (c) => {
      const address = String(c.event.details.email);
      const byAdministrator = c.event.details.by === 'admin';
      return {
        subject: `${c.siteName}: e-mail address added to your account`,
        paragraphs: [
          byAdministrator
            ? `An administrator of this index verified the address ${address} and added it to your account “${c.username}”, after checking that its owner controls it. Password reset links can be sent to it from now on.`
            : `The address ${address} was verified and added to your account “${c.username}”. Password reset links can be sent to it from now on.`,
          when(c),
        ],
        action: review(c),
        after: [
          byAdministrator
            ? 'If you did not ask the administrators of this index for this, remove that address from your account and tell them at once.'
            : 'If this was not you, someone is logged in as you: remove that address from your account, change your password and log out your other sessions.',
        ],
        contact: lockedOut(c),
      };
    },
  },
  // A verified address leaving the account takes its reset links and notices with it: the owner hears of it
  // at the primary address (an unverified one, a typo say, never received anything: no mail for it).
  [EVENT_TAGS.emailRemoved]: {
    kind: 'notice:email-removed',
    sentWhen: (details) => details.verified === true,
    compose: (c) => ({
      subject: `${c.siteName}: e-mail address removed from your account`,
      paragraphs: [
        `The verified address ${String(c.event.details.email)} was removed from your account “${c.username}”. Password reset links can no longer be sent to it.`,
        when(c),
      ],
      action: review(c),
      after: [IF_NOT_YOU],
      contact: lockedOut(c),
    }),
  },
  [EVENT_TAGS.secondFactorFailure]: {
    kind: 'notice:second-factor-failure',
    throttled: true,
    compose: (c) => ({
      subject: `${c.siteName}: failed login attempt on your account`,
      paragraphs: [
        `Someone entered the correct password for your account “${c.username}”, then failed the second step (${methodName(c.event.details)}).`,
        when(c),
        'You will get at most one such message an hour, and again after your next successful login.',
      ],
      action: review(c),
      after: ['If this was not you, your password is known to someone else: change it now. Your second factor kept them out.'],
      contact: lockedOut(c),
    }),
  },
  // The second step paused: only someone past the password step can cause it (a stranger's password guesses
  // pause the password step, which is not mailed: it would let anyone fill an owner's inbox). Its own failures
  // may not all be mailed — a security-key answer refused unexamined (a challenge that is stale, used or never
  // issued) is recorded without a notice, as it is most often the owner's own late or second-tab answer — so
  // the pause is: without it, someone with the password could pause the owner's logins unheard (QA review).
  [EVENT_TAGS.lockout]: {
    kind: 'notice:second-factor-paused',
    throttled: true,
    sentWhen: (details) => details.step === 'second-factor',
    compose: (c) => ({
      subject: `${c.siteName}: two-factor login paused on your account`,
      paragraphs: [
        `Someone entered the correct password for your account “${c.username}”, then failed the second step so many times that two-factor login to it is paused for a while, on every browser.`,
        when(c),
        'Once the pause ends you can log in as usual.',
      ],
      action: resetPassword(c),
      after: ['If this was not you, your password is known to someone else: reset it now with the link above. Your second factor kept them out.'],
      contact: lockedOut(c),
    }),
  },
  // A key whose use count did not grow (DESIGN.md section 3: "signCount regression refused and recorded"): a genuine
  // key never repeats one, so it can mean a copy is in use — someone with the password and a clone of the key.
  // Recorded only, it told no one (QA review).
  [EVENT_TAGS.webauthnSignCountRegression]: {
    kind: 'notice:security-key-count',
    throttled: true,
    compose: (c) => {
      const label = typeof c.event.details.label === 'string' ? keyLabel(c.event.details.label) : 'of your account';
      return {
        subject: `${c.siteName}: a security key of your account may have been copied`,
        paragraphs: [
          `Someone entered the correct password for your account “${c.username}”, then answered with your security key ${label}, but the key reported a use count no higher than before. A genuine key counts up at every use, so this can mean the key was copied. The login was refused.`,
          when(c),
          'Two tabs of one login answered out of order can look the same: if that was you, there is nothing to do.',
        ],
        action: review(c),
        after: ['If this was not you, your password is known to someone else: change it, remove that key from your account and use another factor.'],
        contact: lockedOut(c),
      };
    },
  },
  // Issue 14 point 1: the owner must hear that someone with the password spent the year's TOTP budget.
  // QA: it told every owner "Security keys and recovery codes still work, so you can still log in" and linked the
  // account page. An owner with neither (the app alone, its codes spent) cannot log in for up to a year: told so,
  // and given the one thing that works without a login, a password reset.
  [EVENT_TAGS.totpGuessBudgetSpent]: {
    kind: 'notice:totp-guess-budget-spent',
    compose: (c) => ({
      subject: `${c.siteName}: authentication-app codes blocked on your account`,
      paragraphs: [
        `Someone entered the correct password for your account “${c.username}”, then tried ${typeof c.event.details.guesses === 'number' ? c.event.details.guesses : 'many'} wrong authentication-app codes within a year — the most this index allows.`,
        c.otherFactorLeft
          ? 'Codes from your authentication app are refused until older wrong codes are a year old. Security keys and recovery codes still work, so you can still log in.'
          : 'Codes from your authentication app are refused until older wrong codes are a year old. Your account has no security key and no unused recovery code, so you cannot log in until then unless the administrators of this index reset your two-factor authentication, after verifying your identity.',
        when(c),
      ],
      action: c.otherFactorLeft ? review(c) : resetPassword(c),
      after: [
        c.otherFactorLeft
          ? 'Your password is known to someone else: change it now. An administrator can lift the block after checking your identity.'
          : 'Your password is known to someone else: reset it now with the link above (no login needed).',
      ],
      contact: lockedOut(c),
    }),
  },
  [EVENT_TAGS.accountDeleted]: {
    kind: ACCOUNT_DELETED_NOTICE_KIND,
    compose: (c) => ({
      subject: `${c.siteName}: your account was deleted`,
      paragraphs: [
        `Your account “${c.username}” was deleted, with its two-factor methods, sessions, e-mail addresses and security history. Its username cannot be registered again.`,
        when(c),
      ],
      after: ['If this was not you, someone knew your password and was logged in as you: contact the administrators of this index at once.'],
      contact: reachAdministrators(c),
    }),
  },
  [EVENT_TAGS.adminTwoFactorReset]: {
    kind: 'notice:admin-two-factor-reset',
    compose: (c) => ({
      subject: `${c.siteName}: two-factor authentication reset by an administrator`,
      paragraphs: [
        `An administrator removed every second factor (authentication app, security keys, recovery codes) from your account “${c.username}” and ended all its sessions, after checking the identity of the person who asked.`,
        'Log in with your password and set up two-factor authentication again.',
        when(c),
      ],
      action: review(c),
      after: ['If you did not ask for this, contact the administrators of this index at once.'],
      contact: reachAdministrators(c),
    }),
  },
};

export interface SecurityNoticeOptions {
  /** Key for sealing message bodies (`keys['mail-body']`). */
  mailKey: Buffer;
  now: Clock;
  /** LATCHKEY_ORIGIN: every link in a notice is built from it. */
  origin: string;
  /** Shown in subjects (`rpName`). */
  siteName: string;
  /** LATCHKEY_SUPPORT_CONTACT, named at the end of every notice; unset, the notices say to contact the administrators. */
  support?: SupportContact | undefined;
}

/**
 * The events' follow-up that mails security notices: inside the transaction recording the event, look up
 * the account's primary verified address and queue the notice in the outbox. No verified address: no mail
 * (the event is still recorded and shown in the security history).
 */
export function createSecurityNotices(options: SecurityNoticeOptions): EventFollowUp {
  const { mailKey, now, origin, siteName } = options;
  const support = options.support ?? null;
  return {
    handles: (tag) => Object.hasOwn(SECURITY_NOTICES, tag),

    read(event) {
      const template = SECURITY_NOTICES[event.tag];
      if (!template || !event.userId || (template.sentWhen && !template.sentWhen(event.details))) return null;
      if (template.recipient === undefined) return { kind: 'notice:primary', build: PRIMARY_RECIPIENT, values: {} };
      const address = template.recipient === 'previous-primary' ? event.details.from : event.details.email;
      if (typeof address !== 'string') return null;
      const build = template.recipient === 'previous-primary' ? PREVIOUS_PRIMARY_RECIPIENT : PRIMARY_UNLESS_IT_RECIPIENT;
      // The key the address's row has (services/email-address.ts; every row is keyed so since migration 010).
      return { kind: `notice:${template.recipient}`, build, values: { emailKey: emailKey(address) } };
    },

    async run(trx, event, read) {
      const template = SECURITY_NOTICES[event.tag];
      if (!template || !event.userId) return;
      const userId = event.userId;
      // Read with the event's insert (recipientColumns): the account's name and the address this notice goes to (none: no mail).
      const { notice_username: username, notice_email: email } = read;
      if (typeof username !== 'string' || typeof email !== 'string') return;
      const found = { username, email };
      if (template.throttled && !(await shouldSendThrottled(trx, userId, template.kind, now()))) return;
      const recoveryCodesLeft =
        event.tag === EVENT_TAGS.recoveryCodeUsed
          ? Number(
              (
                await trx
                  .selectFrom('recovery_codes')
                  .select((eb) => eb.fn.countAll<number>().as('count'))
                  .where('user_id', '=', userId)
                  .where('used_at', 'is', null)
                  .executeTakeFirst()
              )?.count ?? 0,
            )
          : 0;
      // After the removal cleared the recovery codes (clearRecoveryCodesIfNoFactor), in its transaction.
      const twoFactorOff = event.tag === EVENT_TAGS.methodRemoved && (await secondFactorLeft(trx, userId)) !== true;
      const otherFactorLeft = event.tag === EVENT_TAGS.totpGuessBudgetSpent && (await factorBesidesTheApp(trx, userId));
      const context: NoticeContext = {
        username: found.username,
        event,
        recoveryCodesLeft,
        twoFactorOff,
        otherFactorLeft,
        recipient: found.email,
        accountUrl: `${origin}${ROUTES.manageAccount}`,
        resetUrl: `${origin}${ROUTES.requestPasswordReset}`,
        siteName,
        support,
      };
      const content = template.compose(context);
      await createMailOutbox(trx, mailKey, now).enqueue({
        kind: template.kind,
        to: found.email,
        userId,
        ...composeMail({ greeting: `Hello ${found.username},`, ...content }),
      });
    },
  };
}

/**
 * The account's name and the verified address a notice goes to, as columns of the event's insert (see
 * EventFollowUp.read): its primary address, the one whose key is `emailKey` (the previous primary), or its
 * primary address unless its key is `emailKey` (verifying the primary address itself tells no one).
 */
const recipientColumns =
  (to: 'primary' | 'previous-primary' | 'primary-unless-it'): EventRead['build'] =>
  (eb, args) => {
    const verified = eb
      .selectFrom('user_emails')
      .select('user_emails.email')
      .whereRef('user_emails.user_id', '=', 'events.user_id')
      .where('user_emails.verified_at', 'is not', null);
    const recipient =
      to === 'previous-primary'
        ? verified.where('user_emails.email_key', '=', args.emailKey as string)
        : to === 'primary'
          ? verified.where('user_emails.is_primary', '=', 1)
          : verified.where('user_emails.is_primary', '=', 1).where('user_emails.email_key', '!=', args.emailKey as string);
    return [eb.selectFrom('users').select('users.username').whereRef('users.id', '=', 'events.user_id').as('notice_username'), recipient.as('notice_email')];
  };
const PRIMARY_RECIPIENT = recipientColumns('primary');
const PREVIOUS_PRIMARY_RECIPIENT = recipientColumns('previous-primary');
const PRIMARY_UNLESS_IT_RECIPIENT = recipientColumns('primary-unless-it');

/**
 * One conditional upsert decides, so two instances recording failures at once send one notice: send when
 * none was sent since the last successful login, or the last one is at least an hour old.
 */
async function shouldSendThrottled(trx: Kysely<Database>, userId: string, kind: string, time: number): Promise<boolean> {
  const result = await trx
    .insertInto('notice_throttle')
    .values({ user_id: userId, kind, last_sent_at: time })
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'kind'])
        .doUpdateSet({ last_sent_at: time })
        .where((eb) =>
          eb.or([
            eb('notice_throttle.last_sent_at', '<=', time - FAILURE_NOTICE_INTERVAL_MS),
            eb(
              'notice_throttle.last_sent_at',
              '<',
              eb
                .selectFrom('events')
                .select((sub) => sub.fn.max('created_at').as('at'))
                .where('user_id', '=', userId)
                .where('tag', '=', EVENT_TAGS.loginSuccess),
            ),
          ]),
        ),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Whether the account can log in without its authentication app: a security key, or an unused recovery code (one statement). */
async function factorBesidesTheApp(trx: Kysely<Database>, userId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('users')
    .select((eb) => [
      eb
        .exists(eb.selectFrom('webauthn_credentials').select('webauthn_credentials.id').whereRef('webauthn_credentials.user_id', '=', 'users.id'))
        .as('has_key'),
      eb
        .exists(
          eb
            .selectFrom('recovery_codes')
            .select('recovery_codes.user_id')
            .whereRef('recovery_codes.user_id', '=', 'users.id')
            .where('recovery_codes.used_at', 'is', null),
        )
        .as('has_code'),
    ])
    .where('id', '=', userId)
    .executeTakeFirst();
  return Boolean(row?.has_key) || Boolean(row?.has_code);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
