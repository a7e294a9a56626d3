import { test } from '../src/kit/fixtures.js';
import { launchBrowserWithExtension, openPopup } from '../src/kit/index.js';
import { expectNoAxeViolations } from './accessibility/audit.js';
import { POPUP_SCREENS, POPUP_TAB_PATH } from './accessibility/popup-screens.js';

// Tracing slows the vault's WebAssembly argon2id many times over (see extension-journey.spec.ts).
test.use({ trace: 'off' });

// Every popup screen (accessibility/popup-screens.ts), walked in one session of the real extension:
// 0 axe-core WCAG 2.2 A/AA violations on each, in the light and the dark theme (the popup follows the
// system's; a dark-only contrast defect once went unseen), and nothing wider than the popup.
test('a11y: every popup screen', async ({ server }, testInfo) => {
  test.setTimeout(300_000);
  const browser = await launchBrowserWithExtension();
  try {
    const tab = await browser.context.newPage();
    await tab.goto(`${server.url}${POPUP_TAB_PATH}`);
    const popup = await openPopup(browser.context, { forPage: tab });
    for (const screen of POPUP_SCREENS) {
      await test.step(screen.name, async () => {
        await screen.reach(popup, { server, tab });
        await expectNoAxeViolations(popup);
        await popup.emulateMedia({ colorScheme: 'dark' });
        await expectNoAxeViolations(popup);
        await popup.emulateMedia({ colorScheme: 'light' });
        const width = await popup.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
        if (width.scroll > width.view) throw new Error(`popup "${screen.name}" scrolls sideways: ${width.scroll} px of content in ${width.view} px`);
        if (process.env.LATCHKEY_A11Y_SCREENSHOTS === '1')
          await popup.screenshot({ path: testInfo.outputPath(`popup-${screen.name.replace(/\W+/g, '-')}.png`) });
      });
    }
  } finally {
    await browser.close();
  }
});
