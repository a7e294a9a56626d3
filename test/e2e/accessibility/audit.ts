import AxeBuilder from '@axe-core/playwright';
import { expect, type TestInfo } from '@playwright/test';
import type { Page } from 'playwright-core';

/** axe-core rule tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA (DESIGN.md section 5). */
export const WCAG_22_AA_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'] as const;

/** The narrowest width WCAG 1.4.10 (Reflow) asks to work without horizontal scrolling. */
export const REFLOW_WIDTH = 320;

/**
 * Runs axe-core with the WCAG 2.2 A/AA tags on the page as it is and fails with one readable line
 * per violation and element (rule, impact, selector, what to fix).
 */
export async function expectNoAxeViolations(page: Page): Promise<void> {
  // axe's default run audits every frame and finishes in a fresh tab of the page's context: a new
  // renderer per audit, the dearest thing a journey does on a slow machine, and impossible for a popup
  // attached over CDP (no context that can open a tab). A page of one frame — every server page and
  // popup screen — is audited completely by axe's single-frame ("legacy") run.
  const results = await new AxeBuilder({ page })
    .withTags([...WCAG_22_AA_TAGS])
    .setLegacyMode(page.frames().length === 1)
    .analyze();
  const problems = results.violations.flatMap((violation) =>
    violation.nodes.map(
      (node) => `${violation.id} (${violation.impact ?? 'n/a'}): ${node.target.join(' ')} — ${node.failureSummary?.replace(/\s+/g, ' ') ?? violation.help}`,
    ),
  );
  expect(problems, `axe-core WCAG 2.2 A/AA violations on ${page.url()}`).toEqual([]);
}

/**
 * At {@link REFLOW_WIDTH} CSS px the document must not be wider than the viewport (WCAG 1.4.10):
 * `document.documentElement.scrollWidth` measured in Chromium. Names the widest elements on failure.
 */
export async function expectNoHorizontalScroll(page: Page, width = REFLOW_WIDTH): Promise<void> {
  const before = page.viewportSize();
  await page.setViewportSize({ width, height: before?.height ?? 800 });
  const measured = await page.evaluate(() => {
    const root = document.documentElement;
    const culprits = Array.from(document.body.querySelectorAll('*'))
      .filter((element) => element.getBoundingClientRect().right > root.clientWidth + 0.5)
      .slice(0, 5)
      .map(
        (element) =>
          `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${element.className && typeof element.className === 'string' ? `.${element.className.split(/\s+/).join('.')}` : ''} (right edge ${Math.round(element.getBoundingClientRect().right)})`,
      );
    return { scrollWidth: root.scrollWidth, culprits };
  });
  expect(measured.scrollWidth, `document.scrollWidth at ${width} px on ${page.url()}; widest: ${measured.culprits.join(', ')}`).toBeLessThanOrEqual(width);
}

/** Opens every `<details>` so what they hide (rename/remove forms) is audited and measured too. */
export async function openAllDetails(page: Page): Promise<void> {
  await page.evaluate(() => {
    for (const details of Array.from(document.querySelectorAll('details'))) details.open = true;
  });
}

/** With LATCHKEY_A11Y_SCREENSHOTS=1, full-page screenshots at desktop width and at 320 px into the test's output folder. */
export async function screenshotBothWidths(page: Page, testInfo: TestInfo): Promise<void> {
  if (process.env.LATCHKEY_A11Y_SCREENSHOTS !== '1') return;
  const before = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: testInfo.outputPath('desktop.png'), fullPage: true });
  await page.setViewportSize({ width: REFLOW_WIDTH, height: 800 });
  await page.screenshot({ path: testInfo.outputPath('320px.png'), fullPage: true });
  // A 320 px full page is too tall to read shrunk to fit a screen: also in parts of 1000 px.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  for (let y = 0, part = 1; y < height; y += 1000, part++) {
    await page.screenshot({
      path: testInfo.outputPath(`320px-part${part}.png`),
      fullPage: true,
      clip: { x: 0, y, width: REFLOW_WIDTH, height: Math.min(1000, height - y) },
    });
  }
  await page.setViewportSize(before);
}
