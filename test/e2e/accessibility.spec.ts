import { test } from '../src/kit/fixtures.js';
import { expectNoAxeViolations, expectNoHorizontalScroll, openAllDetails, screenshotBothWidths } from './accessibility/audit.js';
import { SERVER_PAGES } from './accessibility/server-pages.js';

// Every server page in every listed state (accessibility/server-pages.ts): 0 axe-core WCAG 2.2 A/AA
// violations, and no horizontal scrolling at 320 CSS px (WCAG 1.4.10). Layout and markup do not
// depend on the database, so this runs in the SQLite project only.
//
// An audit is of a page, not of a browser's life: each state still gets its own server and user, but
// the worker's browser context is reused (Playwright clears its cookies, storage and extra pages between
// tests). A new context costs Chromium about 2 s of CPU on a slow 2-core machine, 37 times over.
test.use({ reuseContext: true });

for (const state of SERVER_PAGES) {
  test(`a11y: ${state.name}`, async ({ page, server, mail }, testInfo) => {
    await state.open(page, server, mail);
    await openAllDetails(page);
    await expectNoAxeViolations(page);
    await expectNoHorizontalScroll(page);
    await screenshotBothWidths(page, testInfo);
  });
}
