import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { describeUserAgent } from '../../views/describe-user-agent.js';
import { EVENT_TAGS, type EventTag } from '../events.js';
import { composeMail } from './compose-mail.js';
import { createSecurityNotices, type NoticeContext, SECURITY_NOTICES } from './security-notices.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const ORIGIN = 'https://index.example.org';

/** One notice as its recipient reads it (the plain-text part), for an event of `tag` made with `overrides`. */
function noticeText(tag: EventTag, overrides: Partial<NoticeContext> & { userAgent?: string | null; details?: Record<string, unknown> } = {}) {
  const { userAgent = FIREFOX, details = {}, ...rest } = overrides;
  const context: NoticeContext = {
    username: 'alice',
    event: { userId: 'u-1', tag, origin: { ip: '203.0.113.7', userAgent }, details, createdAt: Date.UTC(2026, 10, 30, 21, 34, 35) },
    recoveryCodesLeft: 5,
    twoFactorOff: false,
    otherFactorLeft: true,
    recipient: 'alice@example.org',
    accountUrl: `${ORIGIN}/manage/account/`,
    resetUrl: `${ORIGIN}/account/request-password-reset/`,
    siteName: 'Latchkey',
    support: null,
    ...rest,
  };
  const content = SECURITY_NOTICES[tag]!.compose(context);
  return { ...composeMail({ greeting: 'Hello alice,', ...content }), content };
}

/** Every notice that names a security key by its label. */
function keyNotices(label: string) {
  const tags = [EVENT_TAGS.methodAdded, EVENT_TAGS.methodRemoved, EVENT_TAGS.secondFactorFailure, EVENT_TAGS.webauthnSignCountRegression];
  return tags.map((tag) => noticeText(tag, { details: { method: 'webauthn', label } }));
}

describe('security notices, as the owner reads them', () => {
  it('say when and from where: the time in UTC, the IP address and the browser the server saw', () => {
    const { text } = noticeText(EVENT_TAGS.methodAdded, { details: { method: 'totp' } });
    // QA: the notices named the IP address only; the browser is what a person recognises ("that was my laptop").
    expect(text).toContain('This happened on Mon, 30 Nov 2026 21:34:35 GMT from the IP address 203.0.113.7 using Firefox 128 on Linux.');
    // A browser the server cannot name, on no platform it knows, is left out, not called "Unknown browser".
    expect(noticeText(EVENT_TAGS.methodAdded, { userAgent: 'Custom/1.0' }).text).toContain('from the IP address 203.0.113.7.');
    expect(noticeText(EVENT_TAGS.methodAdded, { userAgent: null }).text).toContain('from the IP address 203.0.113.7.');
  });

  it('name the platform of a browser the server cannot name, as the security history does', () => {
    // QA: the history said "Unknown browser on Linux" and the notice said nothing of it.
    for (const [userAgent, platform] of [
      ['Custom/1.0 (X11; Linux x86_64)', 'Linux'],
      ['SomeApp/3 (iPhone; CPU iPhone OS 17_0 like Mac OS X)', 'iPhone'],
      ['Tool/2 (Windows NT 10.0; Win64; x64)', 'Windows'],
    ] as const) {
      expect(describeUserAgent(userAgent)).toBe(`Unknown browser on ${platform}`);
      expect(noticeText(EVENT_TAGS.methodAdded, { userAgent, details: { method: 'totp' } }).text).toContain(
        `from the IP address 203.0.113.7 using an unknown browser on ${platform}.`,
      );
    }
  });

  it('never copy the raw User-Agent header: a line break or a long header in it reaches neither header nor body', () => {
    const hostile = `Firefox/128.0\r\nBcc: evil@example.com\r\n${'A'.repeat(5_000)} <b>bold</b>`;
    const { text, html, subject } = noticeText(EVENT_TAGS.passwordChanged, { userAgent: hostile });
    expect(text).toContain('using Firefox 128.');
    for (const part of [text, html, subject]) {
      expect(part).not.toContain('Bcc');
      expect(part).not.toContain('AAAA');
      expect(part).not.toContain('<b>');
    }
  });

  it('a recovery code used: counts what is left, and says "none left" plainly rather than "before you run out"', () => {
    expect(noticeText(EVENT_TAGS.recoveryCodeUsed, { recoveryCodesLeft: 5 }).text).toContain('5 recovery codes are left.');
    expect(noticeText(EVENT_TAGS.recoveryCodeUsed, { recoveryCodesLeft: 2 }).text).toContain('Generate a new set from your account page before you run out.');
    const none = noticeText(EVENT_TAGS.recoveryCodeUsed, { recoveryCodesLeft: 0 }).text;
    // QA: the last code used read "0 recovery codes are left. Generate a new set … before you run out."
    expect(none).toContain('That was your last recovery code: generate a new set from your account page now.');
    expect(none).not.toContain('before you run out');
  });

  it('a removal that turned two-factor authentication off says so, in the subject too', () => {
    const one = noticeText(EVENT_TAGS.methodRemoved, { details: { method: 'totp' } });
    expect(one.subject).toBe('Latchkey: two-factor method removed');
    expect(one.text).not.toContain('is now off');
    // QA: removing the last factor read exactly like removing one of two; the owner was not told 2FA was off.
    const last = noticeText(EVENT_TAGS.methodRemoved, { details: { method: 'totp' }, twoFactorOff: true });
    expect(last.subject).toBe('Latchkey: two-factor authentication turned off');
    expect(last.text).toContain('An authentication app was removed from your account “alice”.');
    expect(last.text).toContain(
      'It was the last second factor: two-factor authentication is now off, and the recovery codes were deleted. Logging in asks for the password alone.',
    );
  });

  it('a password changed or reset: the link is the one to use if it was not you (a reset), not the account page the owner can no longer enter', () => {
    for (const tag of [EVENT_TAGS.passwordChanged, EVENT_TAGS.passwordReset]) {
      const { content, text } = noticeText(tag, { details: tag === EVENT_TAGS.passwordReset ? { sent_to: 'alice@example.org' } : {} });
      // QA: both linked "Review your account", behind a login whose password someone else had just set.
      expect(content.action).toEqual({ label: 'Reset your password', url: `${ORIGIN}/account/request-password-reset/` });
      expect(text).toContain(`Reset your password:\n${ORIGIN}/account/request-password-reset/`);
    }
  });

  it('a pause is mailed only for the second step: a stranger pausing the password step (no password needed) mails nothing', () => {
    // Anyone can pause an account's password step with wrong guesses: a mail for it would let anyone fill the
    // owner's inbox. Only someone past the password step can pause the second step.
    const notices = createSecurityNotices({ mailKey: Buffer.alloc(32), now: () => 0, origin: ORIGIN, siteName: 'Latchkey' });
    const lockout = (step: string) => ({ userId: 'u-1', tag: EVENT_TAGS.lockout, origin: { ip: '203.0.113.7', userAgent: null }, details: { step } });
    expect(notices.read!(lockout('password'))).toBeNull();
    expect(notices.read!(lockout('reauthenticate'))).toBeNull();
    expect(notices.read!(lockout('second-factor'))).toMatchObject({ kind: 'notice:primary' });
    const { subject, text } = noticeText(EVENT_TAGS.lockout, { details: { step: 'second-factor' } });
    expect(subject).toBe('Latchkey: two-factor login paused on your account');
    expect(text).toContain(`Reset your password:\n${ORIGIN}/account/request-password-reset/`);
  });

  it('a security key whose count did not grow names the key, and says two tabs can look the same', () => {
    const { subject, text } = noticeText(EVENT_TAGS.webauthnSignCountRegression, { details: { method: 'webauthn', label: 'Desk key' } });
    expect(subject).toBe('Latchkey: a security key of your account may have been copied');
    expect(text).toContain('answered with your security key “\u2068Desk key\u2069”, but the key reported a use count no higher than before.');
    expect(text).toContain('Two tabs of one login answered out of order can look the same');
  });

  it('quote a security key’s label so that no mail client makes a link of it: a session alone can rename a key', async () => {
    // Renamed by whoever holds a session, a label was copied into the owner's later notices as it was, and
    // clients link URLs and host names in text and HTML alike: the attacker's link in a genuine message.
    const label = 'https://evil.example/x';
    const notices = keyNotices(label);
    for (const { subject, text, html } of notices) {
      // Defanged, then isolated: the isolate goes around the whole quoted label in both parts.
      expect(text, subject).toMatch(/security key “\u2068https\[:\/\/\]evil\[\.\]example\/x\u2069”/);
      expect(html, subject).toContain('security key “<bdi>https[://]evil[.]example/x</bdi>”');
      for (const part of [text, html]) expect(part, subject).not.toMatch(/evil\.example|https:\/\/evil/);
      // What a client links in the text part: the notice's own link (and the request's IP address), nothing of the label.
      const parsed = await simpleParser(`Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n`);
      const links = [...String(parsed.textAsHtml).matchAll(/<a href="([^"]*)"/g)].map((match) => match[1]);
      expect(links, subject).toContain(`${ORIGIN}/manage/account/`);
      for (const link of links) expect(link, subject).toMatch(/^(?:https:\/\/index\.example\.org\/|http:\/\/203\.0\.113\.7$)/);
    }
    // An ordinary label, and any label stored before, reads as it was.
    expect(noticeText(EVENT_TAGS.methodRemoved, { details: { method: 'webauthn', label: 'YubiKey 5.1' } }).text).toContain(
      'The security key “\u2068YubiKey 5.1\u2069” was removed from your account “alice”.',
    );
  });

  it('end with how to reach the administrators (LATCHKEY_SUPPORT_CONTACT): a link when set, said plainly when not', () => {
    const address = { href: 'mailto:security@index.example.org', label: 'security@index.example.org' };
    const page = { href: 'https://index.example.org/help/recovery?a=1&b=2', label: 'https://index.example.org/help/recovery?a=1&b=2' };
    const tags = Object.keys(SECURITY_NOTICES) as EventTag[];
    expect(tags.length).toBeGreaterThan(10);
    for (const tag of tags) {
      const details = { method: 'totp', sent_to: 'alice@example.org', email: 'other@example.org', from: 'old@example.org', to: 'new@example.org' };
      const unset = noticeText(tag, { details });
      const withAddress = noticeText(tag, { details, support: address });
      const withPage = noticeText(tag, { details, support: page });
      // The last paragraph before the signature, in the text part.
      const lastLine = (text: string) => text.split('\n\n').at(-2);
      expect(lastLine(withAddress.text), tag).toMatch(/ security@index\.example\.org$/);
      expect(lastLine(withPage.text), tag).toMatch(/ https:\/\/index\.example\.org\/help\/recovery\?a=1&b=2$/);
      // In HTML a plain link (no inline colour: the client's own, in dark mode too), escaped.
      expect(withAddress.html, tag).toContain('<a href="mailto:security@index.example.org">security@index.example.org</a></p>');
      expect(withPage.html, tag).toContain(
        '<a href="https://index.example.org/help/recovery?a=1&amp;b=2">https://index.example.org/help/recovery?a=1&amp;b=2</a></p>',
      );
      expect(withAddress.html, tag).toContain('<meta name="color-scheme" content="light dark"/>');
      expect(unset.text, tag).not.toContain('mailto:');
      expect(unset.html, tag).not.toContain('mailto:');
      expect(unset.text, tag).toMatch(/administrators of this index/);
    }
    // Where a notice may be the first sign of a take-over, the way back is said even when no contact is set.
    const lockedOut =
      'Locked out, with your second factors and recovery codes lost? Only the administrators of this index can let you back in, after verifying your identity';
    expect(noticeText(EVENT_TAGS.methodRemoved).text).toContain(`${lockedOut}: contact them.\n\n-- \n`);
    expect(noticeText(EVENT_TAGS.passwordChanged, { support: address }).text).toContain(`${lockedOut}: contact them at security@index.example.org\n\n-- \n`);
    // The deletion and the administrator's reset already say to contact them at once: set, the address follows.
    for (const tag of [EVENT_TAGS.accountDeleted, EVENT_TAGS.adminTwoFactorReset]) {
      expect(noticeText(tag).text).not.toContain('Locked out');
      expect(noticeText(tag, { support: address }).text).toContain('The administrators of this index can be reached at security@index.example.org\n\n-- \n');
    }
  });

  it('quote a right-to-left key label in a bidi isolate of its own: FSI … PDI in the text part, a <bdi> in the HTML part', () => {
    // Without it the sentence's direction drew the label's own end on the wrong side of it, beside the quotes
    // ("مفتاح!" with its "!" after the label, "2 مفتاح" with its digit before it).
    for (const label of ['مفتاح!', '2 مفتاح', 'מפתח (גיבוי)']) {
      const notices = keyNotices(label);
      for (const { subject, text, html } of notices) {
        expect(text, subject).toContain(`security key “\u2068${label}\u2069”`);
        expect(html, subject).toContain(`security key “<bdi>${label}</bdi>”`);
        // Exactly that value: one isolate per part, and the HTML part holds no control characters.
        expect(text.match(/[\u2066-\u2069]/g), subject).toEqual(['\u2068', '\u2069']);
        expect(html.match(/<bdi>/g), subject).toHaveLength(1);
        expect(html, subject).not.toMatch(/[\u2066-\u2069]/);
      }
    }
    // Usernames and addresses are ASCII as stored (services/email-address.ts): left as they are, so a copied address
    // carries no control character into a form that refuses them.
    const address = noticeText(EVENT_TAGS.emailVerified, { details: { email: 'work@example.org' } });
    expect(address.text).toContain('The address work@example.org was verified and added to your account “alice”.');
    expect(address.html).not.toContain('<bdi>');
  });
});
