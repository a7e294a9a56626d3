import { describe, expect, it } from 'vitest';
import { MAX_KEY_LABEL_LENGTH, normalizeKeyLabel, sameKeyLabel } from './webauthn-key-label.js';

describe('normalizeKeyLabel', () => {
  it('trims and accepts ordinary names, counting characters not bytes', () => {
    expect(normalizeKeyLabel('  blue USB key ')).toEqual({ ok: true, label: 'blue USB key' });
    const emoji = '🔑'.repeat(MAX_KEY_LABEL_LENGTH);
    expect(normalizeKeyLabel(emoji)).toEqual({ ok: true, label: emoji });
  });

  it('refuses empty, too long, non-string and invisible-character labels with a message', () => {
    for (const bad of ['', '   ', undefined, 42, 'a'.repeat(MAX_KEY_LABEL_LENGTH + 1), 'key\u202Eevil', 'tab\there']) {
      const result = normalizeKeyLabel(bad);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message.length).toBeGreaterThan(10);
    }
  });

  it('normalises to NFC so visually equal names compare equal', () => {
    const decomposed = 'cle\u0301';
    const result = normalizeKeyLabel(decomposed);
    expect(result).toEqual({ ok: true, label: 'cl\u00e9' });
  });
});

describe('sameKeyLabel', () => {
  it('ignores case', () => {
    expect(sameKeyLabel('Blue Key', 'blue key')).toBe(true);
    expect(sameKeyLabel('blue key', 'red key')).toBe(false);
  });
});
