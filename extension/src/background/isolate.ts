/**
 * The bidi isolate of a user-controlled name inside a sentence (FSI … PDI), and the characters themselves: one
 * helper for the extension and the account server, in @latchkey/shared (isolate.ts says why). The popup shows each
 * isolate as a `<bdi>` element (BidiText).
 */
export { FSI, isolate, PDI } from '@latchkey/shared';
