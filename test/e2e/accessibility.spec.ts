import { test } from '../src/kit/fixtures.js';
import {
  expectNoAxeViolations,
  expectNoHorizontalScroll,
  openAllDetails,
  screenshotBothWidths,
  switchToDarkScheme,
  UNSTACKED_TABLE_WIDTH,
} from './accessibility/audit.js';
import { SERVER_PAGES } from './accessibility/server-pages.js';

// Every server page in every listed state (accessibility/server-pages.ts): 0 axe-core WCAG 2.2 A/AA
// violations, and no horizontal scrolling at 320 CSS px (WCAG 1.4.10) nor at the narrowest width that
// does not stack tables (a wide table row ran out of its card there and at desktop width while 320 px,
// stacked, was fine: two viewport changes, no page load); the states marked `dark` also
// 0 violations in the dark colour scheme. Layout and markup do not depend on the database, so this runs
// in the SQLite project only. The dark audit reuses the state the light one reached (no second server,
// user or login): one more axe run, about 0.4 s of the file's wall time per state on 2 cores.
//
// An audit is of a page, not of a browser's life: each state still gets its own server and user, but
// the worker's browser context is reused (Playwright clears its cookies, storage and extra pages between
// tests). A new context costs Chromium about 2 s of CPU on a slow 2-core machine, 37 times over.
test.use({ reuseContext: true });

for (const state of SERVER_PAGES) {
  test(`a11y: ${state.name}${state.dark ? ' (light and dark)' : ''}`, async ({ page, server, mail }, testInfo) => {
    // The reused context's page may come from a dark-mode test.
    await page.emulateMedia({ colorScheme: 'light' });
    await state.open(page, server, mail);
    await openAllDetails(page);
    await expectNoAxeViolations(page);
    await expectNoHorizontalScroll(page);
    await expectNoHorizontalScroll(page, UNSTACKED_TABLE_WIDTH);
    await screenshotBothWidths(page, testInfo);
    if (!state.dark) return;
    await switchToDarkScheme(page);
    await expectNoAxeViolations(page, 'dark');
    await screenshotBothWidths(page, testInfo, 'dark-');
  });
}
