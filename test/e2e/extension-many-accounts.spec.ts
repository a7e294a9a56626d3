import type { Server } from 'node:http';
import { FIELDS } from '@latchkey/shared';
import { Secret } from 'otpauth';
import { test, expect } from '../src/kit/fixtures.js';
import { openPopup } from '../src/kit/index.js';
import { expectNoAxeViolations } from './accessibility/audit.js';
import { addAccountByTyping, createVault, screenshotPopup } from './extension-helpers.js';
import { startStaticPage } from './static-page.js';

// A maintainer with many accounts on a two-factor page (review): the one account that fills on the tab's site
// kept its place in the list (38th of 38), and "Code filled. …" was shown 2 500 px above the pressed Fill, out
// of view. Both checks failed on the build before the fix.
test.use({ trace: 'off' });

const OTHERS = 37;

let site: { server: Server; origin: string };

test.beforeAll(async () => {
  site = await startStaticPage(
    `<!doctype html><title>Two-factor</title><h1>Two-factor step</h1><form><label>Code <input name="${FIELDS.totpValue}" autocomplete="one-time-code"></label><button>Verify</button></form>`,
  );
});

test.afterAll(async () => {
  await new Promise<void>((resolve) => (site ? site.server.close(() => resolve()) : resolve()));
});

test('many accounts: the ones that fill on this tab come first, under their own heading, and "Code filled" shows beside the pressed Fill', async ({
  extension,
  extensionPage,
}, testInfo) => {
  test.setTimeout(180_000);
  await extensionPage.goto(site.origin);
  let popup = await openPopup(extension.context, { forPage: extensionPage });
  await createVault(popup);

  // 37 accounts for another site, imported first; then the one for this page, added last.
  const links = Array.from(
    { length: OTHERS },
    (_, i) =>
      `otpauth://totp/Other%20${String(i + 1).padStart(2, '0')}:user${i + 1}?secret=${new Secret({ size: 20 }).base32}&issuer=Other%20${String(i + 1).padStart(2, '0')}`,
  );
  await popup.getByRole('button', { name: 'Settings' }).click();
  await popup
    .getByLabel('Import a backup or otpauth:// links (one per line)')
    .setInputFiles({ name: 'links.txt', mimeType: 'text/plain', buffer: Buffer.from(`${links.join('\n')}\n`) });
  await popup.getByLabel('Imported links fill on').fill('https://pypi.org');
  await popup.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(popup.getByText(`${OTHERS} accounts added.`)).toBeVisible({ timeout: 30_000 });
  await popup.keyboard.press('Escape');
  await addAccountByTyping(popup, { issuer: 'ACME', label: 'zed', secret: new Secret({ size: 20 }).base32 });
  await popup.close();

  popup = await openPopup(extension.context, { forPage: extensionPage });
  await expect(popup.locator('.account')).toHaveCount(OTHERS + 1);
  const fill = popup.getByRole('button', { name: 'Fill code for ACME zed' });
  await expect(fill).toBeVisible();
  // First in the list, in a list of its own that says why; the other 37 after it.
  await expect.soft(popup.locator('.account').first().getByRole('button', { name: 'Fill code for ACME zed' })).toBeVisible();
  await expect.soft(popup.getByRole('heading', { name: 'Fills on this site' })).toBeVisible();
  await expect.soft(popup.getByRole('list', { name: 'Fills on this site' }).getByRole('listitem')).toHaveCount(1);
  await expect.soft(popup.getByRole('list', { name: 'Other accounts' }).getByRole('listitem')).toHaveCount(OTHERS);

  await fill.click();
  // Said where the person is: in a live region of the row whose Fill was pressed, in view.
  const done = popup.getByText('Code filled. Check the page and continue.');
  await expect(done).toBeVisible();
  await expect.soft(done).toBeInViewport();
  await expect
    .soft(popup.locator('.account', { has: fill }).getByRole('status').filter({ hasText: 'Code filled. Check the page and continue.' }))
    .toBeVisible();
  await expect(extensionPage.locator(`input[name="${FIELDS.totpValue}"]`)).toHaveValue(/^\d{6}$/);
  await screenshotPopup(popup, 'popup-many-accounts-filled', (n) => testInfo.outputPath(n));
  await expectNoAxeViolations(popup);
});
