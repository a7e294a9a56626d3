import type { Request } from './messages.js';

/** Longest text a request field may carry: an import file's text (a backup of a large vault) is the longest. */
export const MAX_IMPORT_TEXT = 1_048_576;
/**
 * Any other text field: passphrases, links, names, ids, origins. Far above every limit a handler words for
 * the person ("The link is too long." at 2 048): this cap is only against absurd sizes, so the handlers'
 * own messages, on the field they are about, are what people see (QA: a 5 000-character link got the
 * generic refusal).
 */
const MAX_TEXT = 65_536;

type Check = (value: unknown) => boolean;

const text =
  (max = MAX_TEXT): Check =>
  (value) =>
    typeof value === 'string' && value.length <= max;
const optional =
  (check: Check): Check =>
  (value) =>
    value === undefined || check(value);
const tabId: Check = (value) => Number.isSafeInteger(value) && (value as number) >= 0;
const object =
  (fields: Record<string, Check>): Check =>
  (value) =>
    typeof value === 'object' && value !== null && !Array.isArray(value) && fieldsHold(value as Record<string, unknown>, fields);

function fieldsHold(value: Record<string, unknown>, fields: Record<string, Check>): boolean {
  // No fields beyond the known ones: a request is exactly what the popup sends.
  if (Object.keys(value).some((key) => !Object.hasOwn(fields, key))) return false;
  return Object.entries(fields).every(([key, check]) => check(value[key]));
}

/**
 * Every request type's fields (besides `type`). The compiler checks that each type of {@link Request} has
 * an entry; the handlers still judge the values (a passphrase too short, an origin that is not one), this
 * only guarantees the shapes they were written for.
 */
const SHAPES: { [K in Request['type']]: Record<string, Check> } = {
  status: {},
  create: { passphrase: text() },
  unlock: { passphrase: text() },
  lock: {},
  'erase-vault': { confirm: text() },
  codes: { refresh: optional((value) => typeof value === 'boolean') },
  'tab-context': { tabId: (value) => value === null || tabId(value) },
  'clock-offset': { tabId },
  'add-account': {
    account: object({ uri: optional(text()), issuer: optional(text()), label: optional(text()), secret: optional(text()), origin: text() }),
  },
  'update-account': { id: text(), issuer: text(), label: text(), origin: text() },
  'delete-account': { id: text() },
  fill: { id: text(), tabId },
  'security-key': { tabId },
  // The settings' values are judged by `parseSettings` (save-settings.ts); here only that they are an object.
  'save-settings': { settings: (value) => typeof value === 'object' && value !== null && !Array.isArray(value) },
  'change-passphrase': { current: text(), next: text() },
  export: {},
  import: { text: text(MAX_IMPORT_TEXT), passphrase: optional(text()), origin: text() },
};

/**
 * Whether a message from an extension page is a request the background knows, with the fields its type
 * has and no others (defence in depth: only the extension's own pages can send, index.ts checks the
 * sender). Anything else is refused before any handler runs.
 */
export function isWellFormedRequest(message: unknown): message is Request {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  const { type, ...fields } = message as Record<string, unknown>;
  if (typeof type !== 'string' || !Object.hasOwn(SHAPES, type)) return false;
  return fieldsHold(fields, SHAPES[type as Request['type']]);
}
