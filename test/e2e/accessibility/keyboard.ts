import { expect } from '@playwright/test';
import type { Locator, Page } from 'playwright-core';

/** What has focus, and whether the focus indicator is drawn (outline or box-shadow, as computed). */
interface FocusInfo {
  description: string;
  visible: boolean;
  isBody: boolean;
}

async function focusInfo(page: Page): Promise<FocusInfo> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return { description: '<body>', visible: false, isBody: true };
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow !== 'none' && style.boxShadow !== '';
    const text = (element.getAttribute('aria-label') ?? element.textContent ?? '').trim().slice(0, 40);
    return { description: `<${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}> "${text}"`, visible: outline || shadow, isBody: false };
  });
}

/** The focused element draws a focus indicator (WCAG 2.4.7): a computed outline or box-shadow. */
export async function expectFocusVisible(page: Page): Promise<void> {
  const info = await focusInfo(page);
  expect(info.visible, `focus indicator on ${info.description}`).toBe(true);
}

/**
 * Presses Tab (or Shift+Tab) until `target` has focus, checking at every stop that focus is visible —
 * the way someone without a mouse gets there. Fails after `maxPresses`.
 */
export async function tabTo(page: Page, target: Locator, options: { backward?: boolean; maxPresses?: number } = {}): Promise<void> {
  const key = options.backward ? 'Shift+Tab' : 'Tab';
  const seen: string[] = [];
  for (let presses = 0; presses < (options.maxPresses ?? 30); presses++) {
    await page.keyboard.press(key);
    const info = await focusInfo(page);
    seen.push(info.description);
    if (info.isBody) continue; // passing the document edge on the way round
    expect(info.visible, `focus indicator on ${info.description}`).toBe(true);
    if (await target.evaluate((element) => element === document.activeElement)) return;
  }
  throw new Error(`tabTo: never reached ${target.toString()} with ${key}; focus went ${seen.join(' → ')}`);
}

/**
 * After a navigation or a refused form, focus must land on the new screen: the first error when the
 * page shows errors (the first invalid field, or the error message), otherwise the page's heading or
 * the element the page gives focus to on load (`autofocus`: the one field to type into, a notice).
 * Never left on `<body>`. The landing spot must show its focus too.
 */
export async function expectFocusOnNewScreen(page: Page, options: { errors?: boolean } = {}): Promise<void> {
  await page.waitForLoadState('load');
  await expect.poll(async () => (await focusInfo(page)).isBody, { message: `focus stayed on <body> after the page changed to ${page.url()}` }).toBe(false);
  const verdict = await page.evaluate((expectErrors) => {
    const focused = document.activeElement!;
    const main = document.querySelector('main');
    const firstInvalid = main?.querySelector('[aria-invalid="true"]') ?? null;
    const errorMessage = main?.querySelector('.notice-error:not([hidden]), [role="alert"]:not([hidden])') ?? null;
    if (expectErrors) {
      const ok = focused === firstInvalid || (errorMessage !== null && (focused === errorMessage || errorMessage.contains(focused)));
      return { ok, why: `the first error (${firstInvalid ? 'an invalid field' : 'the error message'}) should have focus` };
    }
    const heading = main?.querySelector('h1') ?? null;
    const autofocused = document.querySelector('[autofocus]');
    return {
      ok: focused === heading || (autofocused !== null && focused === autofocused),
      why: 'the new page’s heading (or its autofocus target) should have focus',
    };
  }, options.errors ?? false);
  const info = await focusInfo(page);
  expect(verdict.ok, `${verdict.why}; focus is on ${info.description} at ${page.url()}`).toBe(true);
  expect(info.visible, `focus indicator on ${info.description} at ${page.url()}`).toBe(true);
}

/** Presses Enter on what has focus (a button, a link, a field of a form) and waits for the page it loads. */
export async function pressEnterAndLoad(page: Page): Promise<void> {
  await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
}
