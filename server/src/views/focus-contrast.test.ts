import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The focus ring stands out at least 3:1 from every background it is drawn on (WCAG 2.2 SC 1.4.11
 * non-text contrast, SC 2.4.13 focus appearance). The old yellow ring was about 1.6:1 on white.
 */
const css = readFileSync(new URL('../../static/latchkey.css', import.meta.url), 'utf8');

function variable(name: string): string {
  const value = new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})\\b`).exec(css)?.[1];
  if (!value) throw new Error(`latchkey.css defines no --${name} colour`);
  return value;
}

/** WCAG relative luminance of #rrggbb. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((start) => {
    const channel = Number.parseInt(hex.slice(start, start + 2), 16) / 255;
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

describe('focus ring contrast', () => {
  const headerColour = /\.site-header\s*\{[^}]*background:\s*(#[0-9a-fA-F]{6}|var\(--([\w-]+)\))/.exec(css);
  const headerBackground = headerColour?.[2] ? variable(headerColour[2]) : headerColour?.[1];

  it('uses the focus colours everywhere focus can land', () => {
    expect(css).toMatch(/:focus-visible\s*\{\s*outline:\s*3px solid var\(--focus\)/);
    expect(css).toMatch(/\.site-header :focus-visible\s*\{\s*outline-color:\s*var\(--focus-on-dark\)/);
    expect(headerBackground).toBeDefined();
  });

  it.each(['paper', 'page', 'error-bg', 'ok-bg', 'warn-bg'])('is at least 3:1 on --%s', (background) => {
    expect(contrast(variable('focus'), variable(background))).toBeGreaterThanOrEqual(3);
  });

  it('is at least 3:1 on the dark header', () => {
    expect(contrast(variable('focus-on-dark'), headerBackground!)).toBeGreaterThanOrEqual(3);
  });

  it('computes contrast as WCAG does', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#ffbf47', '#ffffff')).toBeLessThan(3); // the old ring on white
  });
});
