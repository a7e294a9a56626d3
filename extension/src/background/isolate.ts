/** FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE (Unicode Bidirectional Algorithm, UAX #9 §2.7). */
export const FSI = '\u2068';
export const PDI = '\u2069';

/** The isolate controls themselves (LRI, RLI, FSI, PDI): a name holding one could end its isolate early. */
const ISOLATE_CONTROLS = /[\u2066-\u2069]/g;

/**
 * A user-controlled name (issuer, account name, file name) ready to go inside a sentence: between FSI and PDI, so
 * its direction is its own and it cannot reorder the words and punctuation around it. Without them an RTL issuer
 * and its label came out as "(label) issuer" inside "Added …", and the sentence's own parentheses and quotes
 * jumped (QA); a name holding U+202E could also reverse the rest of a refusal ("fills only on …"), which is
 * bidi spoofing (Unicode TR #36 §2.4; OWASP ASVS 4.0.3 V5.3.1: output encoded for its context). The popup
 * renders each isolate as a `<bdi>` element (BidiText), so the page's text holds no control characters; in plain
 * text (an attribute, a log) the characters themselves do the same.
 */
export function isolate(name: string): string {
  return `${FSI}${name.replace(ISOLATE_CONTROLS, '')}${PDI}`;
}
