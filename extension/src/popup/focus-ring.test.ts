import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// WCAG 2.2 SC 1.4.11 (non-text contrast) and 2.4.13: the focus indicator needs 3:1 against what it sits
// on. Read from the stylesheet itself, so a change of colours cannot quietly break it.
const css = readFileSync(new URL('./styles.css', import.meta.url), 'utf8');

type Rgba = [number, number, number, number];

function variables(block: string): Record<string, string> {
  return Object.fromEntries([...block.matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)].map((m) => [m[1]!, m[2]!.trim()]));
}

function theme(name: 'light' | 'dark'): Record<string, string> {
  const light = variables(/:root\s*\{([^}]*)\}/.exec(css)![1]!);
  if (name === 'light') return light;
  const dark = /@media \(prefers-color-scheme: dark\)\s*\{\s*:root\s*\{([^}]*)\}/.exec(css);
  return { ...light, ...variables(dark![1]!) };
}

function resolve(value: string, vars: Record<string, string>): string {
  return value.replace(/var\((--[\w-]+)\)/g, (_m, name: string) => resolve(vars[name] ?? '', vars));
}

function parseColor(text: string): Rgba | null {
  const hex = /#([0-9a-f]{6}|[0-9a-f]{3})\b/i.exec(text)?.[1];
  if (hex) {
    const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
    return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)).concat(1) as Rgba;
  }
  const rgb = /rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)(?:\s*[/,]\s*([\d.]+)(%?))?\s*\)/.exec(text);
  if (!rgb) return null;
  const alpha = rgb[4] === undefined ? 1 : Number(rgb[4]) / (rgb[5] ? 100 : 1);
  return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3]), alpha];
}

function over([r, g, b, a]: Rgba, [br, bg, bb]: Rgba): Rgba {
  return [r * a + br * (1 - a), g * a + bg * (1 - a), b * a + bb * (1 - a), 1];
}

function luminance([r, g, b]: Rgba): number {
  const channel = (value: number) => {
    const v = value / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

function contrast(a: Rgba, b: Rgba): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** The colour the :focus-visible rule draws with (its outline, else its box-shadow). */
function focusColor(vars: Record<string, string>): Rgba {
  const rule = /(?:^|\})\s*:focus-visible\s*\{([^}]*)\}/m.exec(css)?.[1] ?? '';
  const declaration = /outline\s*:\s*([^;]+);/.exec(rule)?.[1] ?? /box-shadow\s*:\s*([^;]+);/.exec(rule)?.[1] ?? '';
  const color = parseColor(resolve(declaration, vars));
  if (!color) throw new Error(`no colour in the :focus-visible rule (${declaration})`);
  return color;
}

describe('the focus ring', () => {
  it.each(['light', 'dark'] as const)('reaches 3:1 against every popup surface in the %s theme', (name) => {
    const vars = theme(name);
    const ring = focusColor(vars);
    for (const surface of ['--bg', '--surface', '--surface-2', '--danger-soft', '--accent-soft']) {
      const background = parseColor(vars[surface]!)!;
      expect(contrast(over(ring, background), background), `${name} ring on ${surface}`).toBeGreaterThanOrEqual(3);
    }
  });
});
