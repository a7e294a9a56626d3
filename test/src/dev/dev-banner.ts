import { describeDatabaseUrl } from '../../../server/src/main.js';

/**
 * Where `npm run dev` rebuilds the extension's test build on every change, relative to extension/: not
 * dist/chromium-test, which the journeys load (kit DEFAULT_EXTENSION_PATH) and which each rebuild would empty.
 */
export const DEV_EXTENSION_BUILD = 'dist/chromium-dev';

export interface DevBannerOptions {
  origin: string;
  databaseUrl: string;
  dialect: 'sqlite' | 'postgres';
  password: string;
  users: ReadonlyArray<{ username: string; situation: string }>;
  mailDestination: string;
  adminCommand: string;
  seedFile: string;
  directory: string;
  withExtension: boolean;
}

/**
 * What `npm run dev` prints once it has seeded. The database is named as the server's own start-up line
 * names it — with PostgreSQL, the throw-away schema too (it used to say only "a throw-away PostgreSQL
 * schema", so two dev servers could not be told apart), never a password.
 */
export function devBanner(options: DevBannerOptions): string {
  const lines = [
    '',
    `Latchkey dev server: ${options.origin}  (database ${describeDatabaseUrl(options.databaseUrl)})`,
    '',
    `Seeded users (throw-away, for development only), password "${options.password}":`,
    ...options.users.map(({ username, situation }) => `  ${username.padEnd(6)} ${situation}`),
    '',
    `Mail: ${options.mailDestination}; each message's subject and links are also printed here.`,
    `Current TOTP code of a seeded user:  ${options.adminCommand}`,
    `Recovery codes of alex, security-key private keys: ${options.seedFile} (readDevSeed() in @latchkey/test reads it)`,
    options.withExtension ? `Extension: load extension/${DEV_EXTENSION_BUILD} unpacked (chrome://extensions → Developer mode); rebuilt on change.` : '',
    options.dialect === 'sqlite'
      ? `Ctrl+C stops everything; ${options.directory} (database, mail, seeded secrets) is wiped at the next start.`
      : `Ctrl+C stops everything and drops the PostgreSQL schema; ${options.directory} (mail, seeded secrets) is wiped at the next start.`,
    '',
  ];
  return lines.join('\n');
}
