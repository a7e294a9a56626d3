/**
 * The `npm run admin -- code tom` line the dev server prints, complete: the admin CLI finds the seed file
 * (and through it the database) by LATCHKEY_DEV_DIR, so a dev server started with its own directory must
 * pass it on, or the CLI reads the default directory's seed file (another checkout's, or a stopped server's).
 */
export function adminCodeCommand(options: { devDirectory: string | undefined }): string {
  const assignment = options.devDirectory === undefined ? '' : `LATCHKEY_DEV_DIR=${shellWord(options.devDirectory)} `;
  return `${assignment}npm run admin -- code tom`;
}

/** A word the shell reads back unchanged: as it is when plain, else in single quotes. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./?-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
