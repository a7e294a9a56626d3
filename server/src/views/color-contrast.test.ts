import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contrastRatio as contrast, relativeLuminance as luminance } from '../testing/wcag-contrast.js';

/**
 * The server pages' colours, read from the stylesheet itself, in both schemes: every text colour on
 * every background it is drawn on at least 4.5:1 (WCAG 2.2 SC 1.4.3), control borders and focus rings
 * at least 3:1 (SC 1.4.11, 2.4.13). axe checks the pages as rendered (test/e2e/accessibility.spec.ts,
 * light and dark); this guard is cheap, names the pair that fails, and covers states axe never sees
 * (hover, a focused control on a notice).
 */
const css = readFileSync(new URL('../../static/latchkey.css', import.meta.url), 'utf8');

/** The text of the block that starts at `opening` (its braces balanced), or '' when there is none. */
function block(opening: string): string {
  const start = css.indexOf(opening);
  if (start < 0) return '';
  let depth = 0;
  for (let i = css.indexOf('{', start); i < css.length; i++) {
    if (css[i] === '{') depth++;
    if (css[i] === '}' && --depth === 0) return css.slice(start, i + 1);
  }
  return '';
}

function customProperties(text: string): Map<string, string> {
  return new Map([...text.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})\b/g)].map((match) => [match[1]!, match[2]!.toLowerCase()]));
}

const DARK_MEDIA = '@media screen and (prefers-color-scheme: dark)';
const FORCED_MEDIA = '@media (forced-colors: active)';
const light = customProperties(block(':root {'));
const darkOverrides = customProperties(block(DARK_MEDIA));
const dark = new Map([...light, ...darkOverrides]);
const PALETTES = { light, dark };

const SURFACES = ['paper', 'page'];
const NOTICES = ['warn-bg', 'error-bg', 'ok-bg'];
/** [foreground, the backgrounds it is drawn on, the least contrast]. */
const PAIRS: [string, string[], number][] = [
  ['ink', [...SURFACES, ...NOTICES, 'code-bg', 'button-bg', 'button-hover', 'field-bg'], 4.5],
  ['muted', [...SURFACES, ...NOTICES, 'code-bg'], 4.5],
  ['accent', [...SURFACES, ...NOTICES], 4.5],
  ['danger', [...SURFACES, 'error-bg', 'warn-bg'], 4.5],
  ['ok', [...SURFACES, 'ok-bg'], 4.5],
  ['accent-ink', ['accent', 'accent-hover'], 4.5],
  ['danger-ink', ['danger'], 4.5],
  ['header-ink', ['header-bg'], 4.5],
  ['header-muted', ['header-bg'], 4.5],
  // Non-text: the border that shows where an input or a button is, a primary/danger button's fill, the focus ring.
  ['control-line', [...SURFACES, 'field-bg'], 3],
  ['accent', SURFACES, 3],
  ['danger', SURFACES, 3],
  ['focus', [...SURFACES, ...NOTICES, 'button-bg'], 3],
  ['focus-on-dark', ['header-bg'], 3],
];

describe.each(Object.entries(PALETTES))('the %s palette', (_scheme, palette) => {
  const cases = PAIRS.flatMap(([foreground, backgrounds, least]) => backgrounds.map((background) => [foreground, background, least] as const));

  it.each(cases)('--%s on --%s is at least %s:1', (foreground, background, least) => {
    const fg = palette.get(foreground);
    const bg = palette.get(background);
    expect(fg, `--${foreground} is defined`).toBeDefined();
    expect(bg, `--${background} is defined`).toBeDefined();
    expect(contrast(fg!, bg!)).toBeGreaterThanOrEqual(least);
  });
});

describe('dark mode', () => {
  it('exists and tells the browser both schemes are supported (form controls and scrollbars follow)', () => {
    expect(darkOverrides.size).toBeGreaterThan(10);
    expect(block(':root {')).toMatch(/color-scheme:\s*light dark/);
  });

  it('is dark: the page and cards are dark, the text light', () => {
    for (const name of ['page', 'paper']) expect(luminance(dark.get(name)!)).toBeLessThan(0.05);
    expect(luminance(dark.get('ink')!)).toBeGreaterThan(0.7);
  });

  it('keeps the QR code dark on a light tile', () => {
    expect(darkOverrides.has('qr-tile')).toBe(false);
    expect(luminance(light.get('qr-tile')!)).toBeGreaterThan(0.9);
    expect(css).toMatch(/\.qr\s*\{[^}]*background:\s*var\(--qr-tile\)/);
  });

  it('defines every colour once, as a custom property (no literal colour in a rule)', () => {
    const outsideDefinitions = css
      .replace(block(FORCED_MEDIA), '')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/--[\w-]+:\s*#[0-9a-fA-F]{6};/g, '');
    expect(outsideDefinitions.match(/#[0-9a-fA-F]{3,8}\b|\brgba?\(|\b(?:white|black)\b(?!-)/g) ?? []).toEqual([]);
  });
});

describe('forced colours', () => {
  const forced = block(FORCED_MEDIA).replace(/\/\*[\s\S]*?\*\//g, '');
  const rule = (selector: string): string => {
    const escaped = selector.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`[{};,]\\s*${escaped}\\s*(?:,[^{]*)?\\{([^}]*)\\}`).exec(forced)?.[1] ?? '';
  };

  it('shows the disabled button in GrayText, not by opacity alone', () => {
    expect(rule('.button:disabled')).toMatch(/opacity:\s*1/);
    expect(rule('.button:disabled')).toMatch(/color:\s*GrayText/);
  });

  it('draws focus rings in Highlight', () => {
    expect(rule(':focus-visible')).toMatch(/outline-color:\s*Highlight/);
  });

  it('marks what only a fill or shadow marked: the current history page, the linked event', () => {
    expect(rule('.pagination a[aria-current="page"]')).toMatch(/forced-color-adjust:\s*none[^}]*background:\s*SelectedItem/);
    expect(rule('tr:target')).toMatch(/outline:[^;]*Highlight/);
  });

  it('keeps notices boxed and the QR code on its light tile', () => {
    expect(rule('.notice')).toMatch(/border:[^;]*CanvasText/);
    expect(rule('.qr')).toMatch(/forced-color-adjust:\s*none/);
  });
});
