import type { ErrorCode } from './messages.js';

/** A refusal with a message for the person; `code` lets the popup react (e.g. show the unlock screen). */
export class UserFacingError extends Error {
  constructor(
    message: string,
    readonly code?: ErrorCode,
  ) {
    super(message);
  }
}
