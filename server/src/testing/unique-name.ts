let counter = 0;

/** A username no other test in this process uses, starting with `prefix` (which suite made it, when reading a database). */
export function uniqueName(prefix = 'u'): string {
  return `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;
}
