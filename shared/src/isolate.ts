/** FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE (Unicode Bidirectional Algorithm, UAX #9 §2.7). */
export const FSI = '\u2068';
export const PDI = '\u2069';

/** The isolate controls themselves (LRI, RLI, FSI, PDI): a name holding one could end its isolate early. */
const ISOLATE_CONTROLS = /[\u2066-\u2069]/g;

/**
 * Text someone chose (an issuer, an account name, a file name, a security key's label) ready to go inside a sentence
 * that is text: between FSI and PDI, so its direction is its own and it cannot reorder the words and punctuation
 * around it. Without them an RTL issuer and its label came out as "(label) issuer" inside "Added …", and the
 * sentence's own parentheses and quotes jumped (QA, extension); a right-to-left key label's own end ("مفتاح!",
 * "2 مفتاح") was drawn on the wrong side of it, beside the sentence's quotes (Chromium). A name holding U+202E could
 * also reverse the rest of a sentence, which is bidi spoofing (Unicode TR #36 §2.4; OWASP ASVS 4.0.3 V5.3.1: output
 * encoded for its context). Where the sentence becomes markup, each isolate is shown as a `<bdi>` element instead
 * ({@link splitIsolates}), so a page's text holds no control characters; in plain text (a flash message, a mail's
 * text part, an attribute) the characters themselves do the same.
 */
export function isolate(name: string): string {
  return `${FSI}${name.replace(ISOLATE_CONTROLS, '')}${PDI}`;
}

/** One piece of a sentence: its own words, or a name {@link isolate} put between FSI and PDI (without them). */
export interface SentencePiece {
  text: string;
  isolated: boolean;
}

const ISOLATED = new RegExp(`${FSI}([^${FSI}${PDI}]*)${PDI}`, 'g');

/**
 * A sentence cut at its isolates, in order, for a view that shows each isolated name as a `<bdi>` (the HTML form of
 * the same isolate): the pieces' texts joined are the sentence without the control characters. No piece of the
 * sentence's own words is empty; text with no isolate is one piece.
 */
export function splitIsolates(sentence: string): SentencePiece[] {
  const pieces: SentencePiece[] = [];
  let last = 0;
  for (const match of sentence.matchAll(ISOLATED)) {
    if (match.index > last) pieces.push({ text: sentence.slice(last, match.index), isolated: false });
    pieces.push({ text: match[1]!, isolated: true });
    last = match.index + match[0].length;
  }
  if (last < sentence.length) pieces.push({ text: sentence.slice(last), isolated: false });
  return pieces;
}
