export const BACKUP_FORMAT = 'latchkey-backup';

/**
 * What an import file is, decided without any crypto code so the popup can ask for a passphrase only
 * for a real backup: `backup` (needs its passphrase), `damaged-json` (starts like JSON but does not
 * parse: a backup cut short or edited), `other-json` (valid JSON but not a Latchkey backup) or `lines`
 * (anything else, read as otpauth:// links).
 */
export function backupFileKind(text: string): 'backup' | 'damaged-json' | 'other-json' | 'lines' {
  // A list of links never starts with { or [, so such a file was meant as JSON; read as links, a backup
  // cut short would only get "0 accounts added. Line 1: This is not an otpauth:// link."
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return 'lines';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'damaged-json';
  }
  return typeof value === 'object' && value !== null && (value as { format?: unknown }).format === BACKUP_FORMAT ? 'backup' : 'other-json';
}
