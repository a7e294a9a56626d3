import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { expect, type Page, test } from '@playwright/test';
import {
  addVirtualAuthenticator,
  createVault,
  launchBrowserWithExtension,
  openPopup,
  type SavedCredential,
  softAuthenticator,
  unlockVault,
} from '../src/kit/index.js';
import { startStaticPage } from './static-page.js';

// Self-tests of the kit's browser helpers, against a probe extension and a bare local page, so a
// broken helper shows up here rather than as a confusing journey failure.
const probeExtension = fileURLToPath(new URL('../fixtures/probe-extension', import.meta.url));

let site: Server;
let port: number;
test.beforeAll(async () => {
  let origin: string;
  ({ server: site, origin } = await startStaticPage('<!doctype html><title>Page under test</title><h1>Page under test</h1>'));
  port = Number(new URL(origin).port);
});
test.afterAll(() => new Promise<void>((resolve) => site.close(() => resolve())));

test.describe('openPopup', () => {
  test('opens the real popup attached to the page under test; no activeTab grant, host permission needed', async () => {
    const browser = await launchBrowserWithExtension({ extensionPath: probeExtension });
    try {
      expect(browser.extensionId).toMatch(/^[a-p]{32}$/);
      const other = await browser.context.newPage();
      await other.goto('about:blank');

      // The probe holds host permission for http://127.0.0.1/* only.
      const permitted = await browser.context.newPage();
      await permitted.goto(`http://127.0.0.1:${port}/permitted`);
      const popup = await openPopup(browser.context, { forPage: permitted });
      await expect(popup.locator('#active-tab')).toHaveText(new RegExp(`^tab \\d+: http://127\\.0\\.0\\.1:${port}/permitted$`));
      await popup.getByRole('button', { name: 'Inject into the active tab' }).click();
      await expect(popup.locator('#inject-result')).toHaveText('injected: Page under test');
      await popup.screenshot({ path: test.info().outputPath('probe-popup.png') });

      // Same page content on localhost: the popup is attached to it, but a programmatic open grants no activeTab.
      const unpermitted = await browser.context.newPage();
      await unpermitted.goto(`http://localhost:${port}/unpermitted`);
      const second = await openPopup(browser.context, { forPage: unpermitted });
      await expect(second.locator('#active-tab')).toHaveText(/^tab \d+: \(url hidden\)$/);
      await second.getByRole('button', { name: 'Inject into the active tab' }).click();
      await expect(second.locator('#inject-result')).toHaveText(/^refused: Cannot access contents of the page/);
      expect(popup.isClosed()).toBe(true); // the earlier popup was closed, as a click elsewhere would
    } finally {
      await browser.close();
    }
  });

  test('explains a missing build instead of failing obscurely', async () => {
    await expect(launchBrowserWithExtension({ extensionPath: '/nonexistent/extension' })).rejects.toThrow(/Build the extension first/);
  });
});

test.describe('createVault and unlockVault', () => {
  const passphrase = 'correct horse battery staple';

  test('make a vault on a fresh profile, lock it, unlock it; each names the screen it did not expect, at once', async () => {
    const browser = await launchBrowserWithExtension(); // the real extension test build
    try {
      const page = await browser.context.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      const popup = await openPopup(browser.context, { forPage: page });

      // A fresh profile has no vault: said at once, not after unlockVault's 60 s wait for the locked screen.
      const started = Date.now();
      await expect(unlockVault(popup, passphrase)).rejects.toThrow(
        'the popup shows "Set up Latchkey" (no vault yet), not the locked screen ("Your vault is locked."): create the vault first',
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      await expect(createVault(popup, 'abc')).rejects.toThrow('createVault: the popup keeps "Create vault" disabled for this passphrase');

      await createVault(popup, passphrase);
      await expect(popup.getByRole('heading', { name: 'No accounts yet' })).toBeVisible();
      await expect(createVault(popup, passphrase)).rejects.toThrow('the popup shows the account list (the vault is unlocked), not "Set up Latchkey"');

      await popup.getByRole('button', { name: 'Lock now' }).click();
      await expect(unlockVault(popup, 'not the passphrase at all')).rejects.toThrow('the popup refused the passphrase: Wrong passphrase.');
      await unlockVault(popup, passphrase);
      await expect(popup.getByRole('heading', { name: 'No accounts yet' })).toBeVisible();
    } finally {
      await browser.close();
    }
  });
});

test.describe('addVirtualAuthenticator', () => {
  // http://localhost is a secure context, so WebAuthn runs there without TLS.
  const origin = () => `http://localhost:${port}`;

  test('registers a credential the server library verifies; credentials can be listed and removed', async ({ page }) => {
    await page.goto(`${origin()}/register`);
    const key = await addVirtualAuthenticator(page);
    const options = await generateRegistrationOptions({ rpName: 'Latchkey', rpID: 'localhost', userName: 'alice', attestationType: 'none' });
    const response = await page.evaluate(async (json) => {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(json as PublicKeyCredentialCreationOptionsJSON);
      const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential;
      return credential.toJSON();
    }, options);
    const verification = await verifyRegistrationResponse({
      response: response as Parameters<typeof verifyRegistrationResponse>[0]['response'],
      expectedChallenge: options.challenge,
      expectedOrigin: origin(),
      expectedRPID: 'localhost',
    });
    expect(verification.verified).toBe(true);

    const held = await key.getCredentials();
    expect(held).toHaveLength(1);
    expect(Buffer.from(held[0]!.credentialId, 'base64').toString('base64url')).toBe(verification.registrationInfo?.credential.id);
    await key.removeCredential(verification.registrationInfo!.credential.id);
    expect(await key.getCredentials()).toHaveLength(0);
    await key.remove();
  });

  /** The page's browser answers a login ceremony for `stored` (its virtual authenticator), verified as a server would. */
  async function logInInBrowser(page: Page, stored: WebAuthnCredential) {
    const request = await generateAuthenticationOptions({ rpID: 'localhost', allowCredentials: [{ id: stored.id }] });
    const assertion = await page.evaluate(async (json) => {
      const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(json as PublicKeyCredentialRequestOptionsJSON);
      return ((await navigator.credentials.get({ publicKey })) as PublicKeyCredential).toJSON();
    }, request);
    return verifyAuthenticationResponse({
      response: assertion as Parameters<typeof verifyAuthenticationResponse>[0]['response'],
      expectedChallenge: request.challenge,
      expectedOrigin: origin(),
      expectedRPID: 'localhost',
      credential: stored,
    });
  }

  /** A software key registered for `userName` as a server would (SimpleWebAuthn): the key, and the credential the server keeps. */
  async function registerSoftKey(userName: string) {
    const soft = softAuthenticator();
    const creation = await generateRegistrationOptions({ rpName: 'Latchkey', rpID: 'localhost', userName, attestationType: 'none' });
    const registration = await verifyRegistrationResponse({
      response: soft.createRegistrationResponse(creation, { origin: origin() }),
      expectedChallenge: creation.challenge,
      expectedOrigin: origin(),
      expectedRPID: 'localhost',
    });
    return { soft, stored: registration.registrationInfo!.credential };
  }

  test('imports a softAuthenticator credential, so an HTTP-created key logs in from the browser', async ({ page }) => {
    const { soft, stored } = await registerSoftKey('bob');

    await page.goto(`${origin()}/login`);
    const key = await addVirtualAuthenticator(page);
    await key.importCredential(soft.credentials[0]!);
    const verification = await logInInBrowser(page, stored);
    expect(verification.verified).toBe(true);
    expect(verification.authenticationInfo.newCounter).toBeGreaterThan(0);
  });

  test("imports a key as the dev server saves it in dev-users.json, so a seeded user's key logs in from the browser", async ({ page }) => {
    const { soft, stored } = await registerSoftKey('kim');
    // test/src/dev/dev.ts writes each seeded key like this, JSON, for the admin CLI and for scripts.
    const held = soft.credentials[0]!;
    const saved = JSON.parse(
      JSON.stringify({
        credentialId: held.id,
        rpId: held.rpId,
        userHandle: held.userHandle,
        privateKeyPkcs8: held.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
      }),
    ) as SavedCredential;

    // Two runs of a script, each importing the saved key afresh: the second's count must still be higher
    // than the one the server stored from the first (else it is refused as a cloned key).
    await page.goto(`${origin()}/login-as-kim`);
    let counter = stored.counter;
    for (const run of [1, 2]) {
      if (run === 2) await page.waitForTimeout(1_100); // the default start counts seconds
      const key = await addVirtualAuthenticator(page);
      await key.importCredential(saved);
      const verification = await logInInBrowser(page, { ...stored, counter });
      expect(verification.verified).toBe(true);
      expect(verification.authenticationInfo.newCounter).toBeGreaterThan(counter);
      counter = verification.authenticationInfo.newCounter;
      await key.remove();
    }
  });

  test('a key that fails user verification makes the ceremony fail', async ({ page }) => {
    await page.goto(`${origin()}/uv`);
    await addVirtualAuthenticator(page, { isUserVerified: false });
    const options = await generateRegistrationOptions({
      rpName: 'Latchkey',
      rpID: 'localhost',
      userName: 'carol',
      authenticatorSelection: { userVerification: 'required' },
    });
    const outcome = await page.evaluate(async (json) => {
      try {
        const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(json as PublicKeyCredentialCreationOptionsJSON);
        await navigator.credentials.create({ publicKey });
        return 'created';
      } catch (error) {
        return (error as DOMException).name;
      }
    }, options);
    expect(outcome).toBe('NotAllowedError');
  });
});
