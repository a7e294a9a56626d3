import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Forced colours (Windows high contrast) and reduced motion, read from the stylesheet itself. Checked
// by eye in Chromium with `emulateMedia({ forcedColors: 'active' })`: without these rules the selected
// "How to add" tab is indistinguishable from the others (its only marks are a background and a shadow,
// both dropped), and the countdown ring keeps its author colours (SVG strokes are not forced).
const css = readFileSync(new URL('./styles.css', import.meta.url), 'utf8');

function mediaBlock(query: string): string {
  const start = css.indexOf(`@media (${query})`);
  if (start < 0) return '';
  let depth = 0;
  for (let i = css.indexOf('{', start); i < css.length; i++) {
    if (css[i] === '{') depth++;
    if (css[i] === '}' && --depth === 0) return css.slice(start, i + 1);
  }
  return '';
}

function rule(block: string, selector: string): string {
  const escaped = selector.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?:^|[},\\s])${escaped}\\s*(?:,[^{]*)?\\{([^}]*)\\}`).exec(block)?.[1] ?? '';
}

describe('forced colours', () => {
  const block = mediaBlock('forced-colors: active');

  it('marks the selected tab with system colours the browser keeps', () => {
    const active = rule(block, '.segmented button.active');
    expect(active).toMatch(/forced-color-adjust:\s*none/);
    expect(active).toMatch(/background:\s*SelectedItem/);
    expect(active).toMatch(/color:\s*SelectedItemText/);
  });

  it('draws the countdown ring and notices in system colours', () => {
    expect(rule(block, '.countdown-value')).toMatch(/stroke:\s*CanvasText/);
    expect(rule(block, '.countdown-track')).toMatch(/stroke:\s*GrayText/);
    expect(rule(block, '.notice')).toMatch(/border:[^;]*CanvasText/);
  });
});

describe('reduced motion', () => {
  it('stops the countdown sweep and button fades', () => {
    const block = mediaBlock('prefers-reduced-motion: reduce');
    expect(rule(block, '.button')).toMatch(/transition:\s*none/);
  });
});
