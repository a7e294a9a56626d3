import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MIGRATIONS = path.dirname(fileURLToPath(import.meta.url));
/** server/src/db: what a migration may import besides packages (the dialect helper, the schema's types). */
const DB = path.dirname(MIGRATIONS);

/** Every module specifier a file names: `from '…'`, a bare `import '…'`, `import('…')`, `require('…')`. */
function specifiers(source: string): string[] {
  const pattern = /\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...source.matchAll(pattern)].map((match) => (match[1] ?? match[2] ?? match[3]) as string);
}

/** Why `file` may not import `specifier`, or null. */
function problem(file: string, specifier: string): string | null {
  if (specifier.startsWith('.')) {
    const target = path.resolve(path.dirname(file), specifier);
    return target.startsWith(`${DB}${path.sep}`) ? null : `${specifier} is outside server/src/db`;
  }
  // The project's own packages change with the code as much as services/ does.
  return specifier.startsWith('@latchkey/') ? `${specifier} is the project's own code` : null;
}

describe('migrations are frozen', () => {
  // A migration runs on a database when it is migrated, which may be long after the migration shipped: were it to
  // call live code (services/, the event tags, the address rule), a later change there would make a database
  // migrated later differ from one migrated on the day. Each keeps its own copy of what it uses (010's emailKey010
  // and TAGS_010, 003's keyLabelKey). Tests beside them may import the live code to compare.
  it('no migration imports code outside server/src/db', () => {
    const files = readdirSync(MIGRATIONS, { recursive: true, encoding: 'utf8' })
      .filter((name) => /\.[cm]?[jt]sx?$/.test(name) && !/\.test\.[cm]?[jt]sx?$/.test(name))
      .map((name) => path.join(MIGRATIONS, name));
    expect(files.length).toBeGreaterThanOrEqual(11);
    const found = files.flatMap((file) =>
      specifiers(readFileSync(file, 'utf8')).flatMap((specifier) => {
        const why = problem(file, specifier);
        return why ? [`${path.relative(MIGRATIONS, file)}: ${why}`] : [];
      }),
    );
    expect(found).toEqual([]);
  });

  it('the check sees the imports it is meant to refuse', () => {
    const file = path.join(MIGRATIONS, '011-example.ts');
    const source = [
      "import type { Kysely } from 'kysely';",
      "import { isPostgres } from '../dialect.js';",
      "import { emailKey } from '../../services/email-address.js';",
      "import {\n  EVENT_TAGS,\n} from '../../services/events.js';",
      "import '../../config.js';",
      "const later = await import('../../services/events.js');",
      "import { ROUTES } from '@latchkey/shared';",
    ].join('\n');
    expect(specifiers(source).map((specifier) => problem(file, specifier))).toEqual([
      null,
      null,
      '../../services/email-address.js is outside server/src/db',
      '../../services/events.js is outside server/src/db',
      '../../config.js is outside server/src/db',
      '../../services/events.js is outside server/src/db',
      "@latchkey/shared is the project's own code",
    ]);
  });
});
