/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** Help text in the spirit of PyPI's two-factor help, shared by the pages that need it. */
import type { SupportContact } from '../config.js';

export function WhatIsTwoFactor() {
  return (
    <section class="help" aria-labelledby="help-2fa">
      <h2 id="help-2fa">What is two-factor authentication?</h2>
      <p>
        Two-factor authentication (2FA) makes your account harder to take over. Logging in needs something you know — your password — and something you have: a
        phone app that shows a new code every 30 seconds, or a security key you touch. Someone who steals or guesses your password still cannot log in.
      </p>
      <h3>Supported methods</h3>
      <ul>
        <li>
          <strong>Authentication app (TOTP)</strong>: any app that follows RFC 6238, such as a password manager or the Latchkey browser extension. You scan a QR
          code once; the app then shows 6-digit codes.
        </li>
        <li>
          <strong>Security key (WebAuthn)</strong>: a hardware key or your device's built-in authenticator. It cannot be phished: it only answers this site.
        </li>
        <li>
          <strong>Recovery codes</strong>: eight single-use codes for when your app or key is not at hand.
        </li>
      </ul>
    </section>
  );
}

/**
 * Why recovery codes matter, and what is left when they are lost too: the administrators, reached at
 * LATCHKEY_SUPPORT_CONTACT when it is set (`support` as in {@link ContactAdministrators}).
 */
export function WhyRecoveryCodes({ support }: { support: SupportContact | null }) {
  return (
    <section class="help" aria-labelledby="help-recovery">
      <h2 id="help-recovery">Why keep recovery codes safe?</h2>
      <p>
        If you lose your phone or security key, a recovery code is the only way to log in by yourself. Each code works once. Store them somewhere safe and
        separate from your devices — a password manager, or printed on paper — and never share them: anyone with a code and your password can log in as you.
      </p>
      <h3>What if I lose every method?</h3>
      <p>
        If you have lost your devices and your recovery codes, <ContactAdministrators support={support} />. After they have verified your identity they can
        reset two-factor authentication on your account; the reset is recorded in your security history. This takes time on purpose, so set up a second method
        and keep your codes safe.
      </p>
    </section>
  );
}

/**
 * "Contact the administrators of this index", with LATCHKEY_SUPPORT_CONTACT as its link when set; unset, the
 * sentence says it plainly, without a link that leads nowhere. `support` is only ever tested for being
 * there: its strings go into the link's text and `href` (the render cache's contract, views/render.ts).
 */
export function ContactAdministrators({ support }: { support: SupportContact | null }) {
  return support ? (
    <>
      contact the administrators of this index at <a href={support.href}>{support.label}</a>
    </>
  ) : (
    <>contact the administrators of this index</>
  );
}

/**
 * What someone who lost every second factor and every recovery code can do: only an administrator's reset
 * (`npm run admin -- reset-2fa`, after checking who they are: docs/server.md, "Account recovery") lets them
 * back in. Said on the second-step pages, where they find out, with the way to reach the administrators.
 */
export function LockedOutHelp({ support }: { support: SupportContact | null }) {
  return (
    <p id="locked-out-help">
      Without your second factors and your recovery codes, only the administrators of this index can let you back in: after verifying your identity they can
      reset two-factor authentication on your account. To ask, <ContactAdministrators support={support} />.
    </p>
  );
}
