import { describe, expect, it } from 'vitest';
import { FSI, isolate, PDI, splitIsolates } from './isolate.js';

describe('isolate', () => {
  it('puts a name between FSI and PDI, whatever its direction', () => {
    expect(isolate('مفتاح')).toBe('\u2068مفتاح\u2069');
    expect(isolate('Desk key 2')).toBe(`${FSI}Desk key 2${PDI}`);
  });

  it('a name cannot end its isolate early or open another: the isolate controls in it are dropped', () => {
    // U+2069 would close the isolate in the middle of the name, and U+202E (RLO) would then reverse the rest of the
    // sentence (Unicode TR #36 §2.4); inside the isolate the RLO stays the name's own.
    expect(isolate('evil\u2069\u202Eorg.ipyp')).toBe(`${FSI}evil\u202Eorg.ipyp${PDI}`);
    expect(isolate('\u2066a\u2067b\u2068c')).toBe(`${FSI}abc${PDI}`);
  });
});

describe('splitIsolates', () => {
  it('cuts a sentence at each isolate, the names without their controls', () => {
    const sentence = `Security key “${isolate('مفتاح 2')}” renamed to “${isolate('مفتاح!')}”.`;
    expect(splitIsolates(sentence)).toEqual([
      { text: 'Security key “', isolated: false },
      { text: 'مفتاح 2', isolated: true },
      { text: '” renamed to “', isolated: false },
      { text: 'مفتاح!', isolated: true },
      { text: '”.', isolated: false },
    ]);
    expect(
      splitIsolates(sentence)
        .map((piece) => piece.text)
        .join(''),
    ).toBe('Security key “مفتاح 2” renamed to “مفتاح!”.');
  });

  it('text with no isolate is one piece, and a sentence may start or end with a name', () => {
    expect(splitIsolates('Logged out')).toEqual([{ text: 'Logged out', isolated: false }]);
    expect(splitIsolates(`${isolate('a')} and ${isolate('b')}`)).toEqual([
      { text: 'a', isolated: true },
      { text: ' and ', isolated: false },
      { text: 'b', isolated: true },
    ]);
    expect(splitIsolates('')).toEqual([]);
  });
});
