import { ROUTES } from '@latchkey/shared';
import { expect, type TestInfo } from '@playwright/test';
import type { Page } from 'playwright-core';
import { test } from '../src/kit/fixtures.js';
import { expectNoHorizontalScroll, openAllDetails } from './accessibility/audit.js';
import { asUser, longNames, SERVER_PAGES, type ServerPageState } from './accessibility/server-pages.js';

// The server pages in the display settings maintainers use beyond what accessibility.spec.ts covers
// (light and dark at 1280 px, reflow at 320 px): Windows High Contrast (forced colours) and 400 % zoom.
// With LATCHKEY_A11Y_SCREENSHOTS=1 each test also leaves full-page screenshots in its output folder.

function state(name: string): ServerPageState {
  const found = SERVER_PAGES.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no server page state named ${JSON.stringify(name)} in accessibility/server-pages.ts`);
  return found;
}

async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  if (process.env.LATCHKEY_A11Y_SCREENSHOTS !== '1') return;
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true, scale: 'css' });
}

/** The computed value of a system colour keyword in this page's forced palette. */
async function systemColour(page: Page, keyword: string): Promise<string> {
  return page.evaluate((colour) => {
    const probe = document.createElement('span');
    probe.style.color = colour;
    document.body.append(probe);
    const computed = getComputedStyle(probe).color;
    probe.remove();
    return computed;
  }, keyword);
}

test.describe('forced colours (Windows High Contrast)', () => {
  test.beforeEach(async ({ page }) => {
    await page.emulateMedia({ forcedColors: 'active' });
  });

  test('account page and history: focus ring, disabled button, current page and linked event stay visible', async ({ page, server, mail }, testInfo) => {
    await state('account: everything on, sessions, devices, long history').open(page, server, mail);
    expect(await page.evaluate(() => matchMedia('(forced-colors: active)').matches)).toBe(true);
    await openAllDetails(page);

    // A button made to wait (as submit-once.js and the key scripts do): GrayText, not merely faded.
    const button = page.getByRole('button', { name: 'Generate new recovery codes' });
    await button.evaluate((element) => element.setAttribute('disabled', ''));
    const disabled = await button.evaluate((element) => ({ color: getComputedStyle(element).color, opacity: getComputedStyle(element).opacity }));
    expect(disabled).toEqual({ color: await systemColour(page, 'GrayText'), opacity: '1' });
    await screenshot(page, testInfo, 'forced-account');

    // The focus ring, in Highlight, from the keyboard.
    await page.locator('main input:not([type=hidden])').first().focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement!);
      return { style: style.outlineStyle, width: style.outlineWidth, color: style.outlineColor };
    });
    expect(ring).toEqual({ style: 'solid', width: '3px', color: await systemColour(page, 'Highlight') });

    // The history's current page was marked by its fill, the event a link points at by a fill and a shadow.
    await page.goto(`${server.url}${ROUTES.manageAccount}history/?page=2`);
    const eventId = await page.locator('tbody tr').nth(1).getAttribute('id');
    await page.goto(`${page.url()}#${eventId}`);
    const fill = (element: Element) => getComputedStyle(element).backgroundColor;
    const current = await page.locator('.pagination a[aria-current="page"]').evaluate(fill);
    expect(current).toBe(await systemColour(page, 'SelectedItem'));
    expect(await page.locator('.pagination a:not([aria-current])').first().evaluate(fill)).not.toBe(current);
    const target = await page
      .locator(`#${eventId}`)
      .evaluate((row) => ({ style: getComputedStyle(row).outlineStyle, color: getComputedStyle(row).outlineColor }));
    expect(target).toEqual({ style: 'solid', color: await systemColour(page, 'Highlight') });
    await screenshot(page, testInfo, 'forced-history');
  });

  test('authentication app set-up: the QR code keeps its light tile on a black theme', async ({ page, server }, testInfo) => {
    // Chromium's emulated forced palette follows the colour scheme: dark gives a black Canvas, as in
    // Windows' "Night sky", where the tile's white would otherwise be forced to black around a black code.
    await page.emulateMedia({ forcedColors: 'active', colorScheme: 'dark' });
    await asUser('no-2fa', ROUTES.totpProvision, longNames)(page, server);
    expect(await systemColour(page, 'Canvas')).toBe('rgb(0, 0, 0)');
    const qr = page.locator('img.qr');
    await expect(qr).toBeVisible();
    expect(await qr.evaluate((image) => getComputedStyle(image).backgroundColor)).toBe('rgb(255, 255, 255)');
    await screenshot(page, testInfo, 'forced-totp-provision');
  });
});

// 400 % browser zoom of a 1280 × 1024 window lays the page out in 320 × 256 CSS px at 4 device pixels
// each: WCAG 1.4.10's own example. The account page of a user with the longest names the server takes
// (a 50-character username, a 63-character local part, a 64-character key label) and IPv6 sessions;
// accessibility.spec.ts checks every page at 320 px at 1 device pixel.
test.describe('400 % zoom', () => {
  test.use({ viewport: { width: 320, height: 256 }, deviceScaleFactor: 4 });
  test('no horizontal scrolling on the busiest page', async ({ page, server, mail }, testInfo) => {
    await state('account: everything on, sessions, devices, long history').open(page, server, mail);
    await openAllDetails(page);
    await expectNoHorizontalScroll(page, 320);
    await screenshot(page, testInfo, 'zoom-400');
  });

  // The label was one flex item as wide as its text: at 320 px it did not fit beside its box and the whole of it
  // moved to the next line, leaving a lone box above the words (the two-factor page, the app's codes refused too).
  test('the "Remember this device" box stays beside its label', async ({ page, server, mail }, testInfo) => {
    await state('two-factor: app, key and recovery codes').open(page, server, mail);
    const box = (await page.locator('#remember-device').boundingBox())!;
    const label = (await page.locator('label[for="remember-device"]').boundingBox())!;
    expect(label.y, 'the label starts on the line of its box').toBeLessThan(box.y + box.height);
    expect(label.x).toBeGreaterThan(box.x + box.width);
    await screenshot(page, testInfo, 'zoom-400-remember-device');
  });
});
