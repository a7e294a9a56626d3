import type { ImportSkip } from '../background/messages.js';

/**
 * One skipped account of an import report, as the person reads it: where it is in the file, and what it ran
 * into — the vault's account under the vault's name, or an earlier line of the same file. A skipped line used to
 * read "already in the vault" under its own name, also when the vault's account was called something else and
 * when the repeat was inside the file (QA). `duplicate`: the same secret for the same site; `conflict`: the same
 * name and site with another secret.
 */
export function describeImportSkip(skip: ImportSkip, kind: 'duplicate' | 'conflict'): string {
  const where = skip.line === null ? '' : `Line ${skip.line}: `;
  const name = `“${skip.name}”`;
  const { sameAs } = skip;
  const other = `“${sameAs.name}”`;
  if (sameAs.in === 'vault') {
    if (kind === 'conflict') return `${where}${name}, a different secret from ${other} already in the vault`;
    return sameAs.name === skip.name ? `${where}${name}, already in the vault` : `${where}${name}, the same account as ${other} already in the vault`;
  }
  const earlier =
    sameAs.line === null
      ? `${other} earlier in this backup`
      : sameAs.name === skip.name
        ? `line ${sameAs.line} of this file`
        : `line ${sameAs.line} (${other}) of this file`;
  return kind === 'conflict' ? `${where}${name}, a different secret from ${earlier}` : `${where}${name}, repeats ${earlier}`;
}
