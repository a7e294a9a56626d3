import AxeBuilder from '@axe-core/playwright';
import { expect, type TestInfo } from '@playwright/test';
import type { Page } from 'playwright-core';

/** axe-core rule tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA (DESIGN.md section 5). */
export const WCAG_22_AA_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'] as const;

/** The narrowest width WCAG 1.4.10 (Reflow) asks to work without horizontal scrolling. */
export const REFLOW_WIDTH = 320;

/**
 * The narrowest width at which tables are still laid out as tables (latchkey.css stacks their cells at
 * 30rem and below): where a cell's longest unbreakable word (a quoted address or key label in the history)
 * leaves the least room, and where a table too wide for its card widens the page. At 320 px it is stacked.
 */
export const UNSTACKED_TABLE_WIDTH = 481;

/**
 * Runs axe-core with the WCAG 2.2 A/AA tags on the page as it is and fails with one readable line
 * per violation and element (rule, impact, selector, what to fix).
 */
export async function expectNoAxeViolations(page: Page, scheme: 'light' | 'dark' = 'light'): Promise<void> {
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
  expect(problems, `axe-core WCAG 2.2 A/AA violations on ${page.url()} (${scheme} colour scheme)`).toEqual([]);
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
  // Back to the width the page had, so what comes next (the dark-mode audit) sees the desktop layout.
  if (before) await page.setViewportSize(before);
  expect(measured.scrollWidth, `document.scrollWidth at ${width} px on ${page.url()}; widest: ${measured.culprits.join(', ')}`).toBeLessThanOrEqual(width);
}

/**
 * Switches the page to `prefers-color-scheme: dark` and checks it followed: a dark page under light
 * text, and `color-scheme` saying so to the form controls and scrollbars. (Without a dark palette, axe
 * in "dark mode" would audit the light page a second time and pass.)
 */
export async function switchToDarkScheme(page: Page): Promise<void> {
  await page.emulateMedia({ colorScheme: 'dark' });
  const seen = await page.evaluate(() => {
    /** WCAG relative luminance of a computed `rgb(r, g, b)` colour. */
    const luminance = (rgb: string): number => {
      const [r, g, b] = (rgb.match(/[\d.]+/g) ?? []).slice(0, 3).map((value) => {
        const channel = Number(value) / 255;
        return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
    };
    const root = getComputedStyle(document.documentElement);
    return { page: luminance(root.backgroundColor), text: luminance(getComputedStyle(document.body).color), colorScheme: root.colorScheme };
  });
  expect(seen.colorScheme, `color-scheme on ${page.url()}`).toMatch(/dark/);
  expect(seen.page, `luminance of the page background in dark mode on ${page.url()}`).toBeLessThan(0.05);
  expect(seen.text, `luminance of the text in dark mode on ${page.url()}`).toBeGreaterThan(0.5);
}

/** Opens every `<details>` so what they hide (rename/remove forms) is audited and measured too. */
export async function openAllDetails(page: Page): Promise<void> {
  await page.evaluate(() => {
    for (const details of Array.from(document.querySelectorAll('details'))) details.open = true;
  });
}

/**
 * With LATCHKEY_A11Y_SCREENSHOTS=1, full-page screenshots at desktop width and at 320 px into the
 * test's output folder, their names starting with `prefix` (e.g. `dark-`).
 */
export async function screenshotBothWidths(page: Page, testInfo: TestInfo, prefix = ''): Promise<void> {
  if (process.env.LATCHKEY_A11Y_SCREENSHOTS !== '1') return;
  const before = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: testInfo.outputPath(`${prefix}desktop.png`), fullPage: true });
  await page.setViewportSize({ width: REFLOW_WIDTH, height: 800 });
  await page.screenshot({ path: testInfo.outputPath(`${prefix}320px.png`), fullPage: true });
  // A 320 px full page is too tall to read shrunk to fit a screen: also in parts of 1000 px.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  for (let y = 0, part = 1; y < height; y += 1000, part++) {
    await page.screenshot({
      path: testInfo.outputPath(`${prefix}320px-part${part}.png`),
      fullPage: true,
      clip: { x: 0, y, width: REFLOW_WIDTH, height: Math.min(1000, height - y) },
    });
  }
  await page.setViewportSize(before);
}
