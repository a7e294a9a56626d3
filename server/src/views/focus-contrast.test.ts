import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contrastRatio as contrast } from '../testing/wcag-contrast.js';

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
