/**
 * A rule said no. `message` is written for people and shown as-is; `status` is the HTTP status the
 * route answers with; `field` names the form field at fault, when there is one.
 */
export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    message: string,
    readonly status: number = 400,
    readonly field?: string,
    /** Every field at fault with its message, when a form can be refused for several at once. */
    readonly fieldErrors: Record<string, string> = field ? { [field]: message } : {},
  ) {
    super(message);
  }
}
