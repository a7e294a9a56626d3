import type { CDPSession, Page } from 'playwright-core';
import type { SoftCredential } from './soft-authenticator.js';

export interface VirtualAuthenticatorOptions {
  /** Default `'ctap2'`. */
  protocol?: 'ctap2' | 'u2f';
  /** Default `'usb'` (a security key). */
  transport?: 'usb' | 'nfc' | 'ble' | 'internal';
  /** Can hold discoverable credentials (passkeys). Default `true`. */
  hasResidentKey?: boolean;
  /** Supports user verification (a PIN). Default `true`. */
  hasUserVerification?: boolean;
  /** Whether user verification succeeds. Default `true`. */
  isUserVerified?: boolean;
  /** Answers the browser's prompt as if the user touched the key. Default `true`. */
  automaticPresenceSimulation?: boolean;
}

/** A credential as the CDP WebAuthn domain reports it (binary fields standard-base64). */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
}

/**
 * A credential saved outside a {@link SoftCredential}: what `npm run dev` writes for each seeded key in
 * `dev-users.json` (`users[].securityKey`), so a script can log in as `kim` in a browser.
 */
export interface SavedCredential {
  /** base64url, as the server stores it. */
  credentialId: string;
  rpId: string;
  /** base64url. */
  userHandle: string;
  /** The private key, PKCS#8 DER, standard base64. */
  privateKeyPkcs8: string;
  /**
   * The counter to start from. Default: the current Unix time in seconds. A saved key is imported again
   * and again (every run of a script), but the server keeps the highest count it has seen and refuses
   * one that does not grow, as from a cloned key; a clock-based start is past every earlier run's.
   */
  signCount?: number;
}

export interface VirtualAuthenticator {
  /** The CDP authenticator id. */
  readonly authenticatorId: string;
  /** The CDP session of the page, for anything this wrapper does not cover. */
  readonly cdp: CDPSession;
  /** Credentials the key holds (one per registration). */
  getCredentials(): Promise<VirtualCredential[]>;
  /** Removes one credential, by its base64url id (as the server stores it) or standard base64. */
  removeCredential(credentialId: string): Promise<void>;
  /** Forgets every credential (a wiped key). */
  clearCredentials(): Promise<void>;
  /** Makes later ceremonies pass or fail user verification. */
  setUserVerified(isUserVerified: boolean): Promise<void>;
  /**
   * Copies a credential in, so a user created without the browser can log in with it there: a
   * softAuthenticator credential (`createUserIn(…).securityKey.credentials[0]`) or a
   * {@link SavedCredential} (a seeded user's `securityKey` from the dev server's `dev-users.json`).
   */
  importCredential(credential: SoftCredential | SavedCredential): Promise<void>;
  /** Unplugs the key. */
  remove(): Promise<void>;
}

/**
 * Plugs a virtual security key into `page` (CDP `WebAuthn.enable` + `WebAuthn.addVirtualAuthenticator`):
 * the page's `navigator.credentials.create()/get()` then succeed without a prompt, exactly as if a
 * CTAP2 USB key were touched. The key belongs to this page's tab and survives its navigations. The
 * tab also gets focus emulation (WebAuthn needs a focused document; headless Chromium does not give
 * focus back to a tab after an extension popup closes).
 *
 * @example
 * ```ts
 * const key = await addVirtualAuthenticator(page);
 * await page.goto(`${server.url}/manage/account/webauthn-provision`);
 * await page.getByLabel('Name').fill('Desk key');
 * await page.getByRole('button', { name: 'Add security key' }).click();
 * expect(await key.getCredentials()).toHaveLength(1);
 * ```
 */
export async function addVirtualAuthenticator(page: Page, options: VirtualAuthenticatorOptions = {}): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  // enableUI false: no browser dialog to click; the authenticator answers directly.
  await cdp.send('WebAuthn.enable', { enableUI: false });
  // WebAuthn only runs in a focused document. A desktop browser hands focus back to the tab when an
  // extension popup closes; headless Chromium does not, so a ceremony started from the popup (the
  // extension's "Use security key") would wait forever. Emulating focus for this tab stands in for that.
  await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: true });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: options.protocol ?? 'ctap2',
      transport: options.transport ?? 'usb',
      hasResidentKey: options.hasResidentKey ?? true,
      hasUserVerification: options.hasUserVerification ?? true,
      isUserVerified: options.isUserVerified ?? true,
      automaticPresenceSimulation: options.automaticPresenceSimulation ?? true,
    },
  });

  return {
    authenticatorId,
    cdp,
    async getCredentials() {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials as VirtualCredential[];
    },
    async removeCredential(credentialId) {
      await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: toStandardBase64(credentialId) });
    },
    async clearCredentials() {
      await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
    },
    async setUserVerified(isUserVerified) {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified });
    },
    async importCredential(credential) {
      await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: virtualCredentialOf(credential) });
    },
    async remove() {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
      await cdp.detach();
    },
  };
}

/**
 * The credential as CDP's `WebAuthn.addCredential` takes it. Checked first, so a wrong argument says what to pass
 * instead of failing deep inside Buffer ("The first argument must be of type string … Received undefined"): the
 * easy mistake is a createUserIn user's whole `securityKey` (an authenticator holding credentials), where the
 * dev seed's `securityKey` is one credential.
 */
export function virtualCredentialOf(credential: SoftCredential | SavedCredential): VirtualCredential {
  const given = credential as unknown;
  if (typeof given !== 'object' || given === null || !('rpId' in given) || !('userHandle' in given)) {
    const authenticator = typeof given === 'object' && given !== null && 'credentials' in given;
    throw new TypeError(
      `importCredential takes one credential${authenticator ? ', not a whole soft authenticator' : ''}: ` +
        "a createUserIn user's `user.securityKey.credentials[0]`, or a dev-server seed's `seed.user('kim').securityKey`.",
    );
  }
  const saved = 'privateKeyPkcs8' in credential;
  return {
    credentialId: toStandardBase64(saved ? credential.credentialId : credential.id),
    isResidentCredential: false,
    rpId: credential.rpId,
    privateKey: saved ? credential.privateKeyPkcs8 : credential.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    userHandle: toStandardBase64(credential.userHandle),
    signCount: credential.signCount ?? (saved ? Math.floor(Date.now() / 1000) : 0),
  };
}

/** CDP's `binary` type is standard base64; WebAuthn JSON and the server use base64url. */
function toStandardBase64(value: string): string {
  return Buffer.from(value, 'base64url').toString('base64');
}
