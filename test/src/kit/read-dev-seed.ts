import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { devSeedFilePath, type DevSeedFile } from '../../../server/src/bin/code.js';
import type { SavedCredential } from './add-virtual-authenticator.js';
import type { UserState } from './create-user-in.js';

/** One user `npm run dev` seeded, with the secrets a script needs to log in as them. */
export interface DevSeedUser {
  state: UserState;
  username: string;
  /** `dev-only-password` for every seeded user. */
  password: string;
  /** Base32 (states with TOTP): `currentTotp(user.totpSecret!)`. */
  totpSecret?: string;
  /** `alex` only; a code used on the dev server stays used until it restarts. */
  recoveryCodes?: string[];
  /** `kim` and `alex`: `(await addVirtualAuthenticator(page)).importCredential(user.securityKey!)`. */
  securityKey?: SavedCredential;
}

export interface DevSeed {
  /** The seed file read. */
  file: string;
  /** The dev server's origin, e.g. `http://localhost:8080` (it follows `PORT`). */
  origin: string;
  databaseUrl: string;
  /** When the dev server seeded (ISO 8601): a restart makes new users, secrets and keys. */
  createdAt: string;
  users: DevSeedUser[];
  /** The seeded user named `username`; throws naming the seeded ones when there is none. */
  user(username: string): DevSeedUser;
}

export interface ReadDevSeedOptions {
  /** The dev server's directory. Default: `LATCHKEY_DEV_DIR`, else `<os tmpdir>/latchkey-dev`, as `npm run dev` chooses. */
  directory?: string;
}

/**
 * Reads what the running dev server (`npm run dev`) seeded — its origin and each user's password,
 * TOTP secret, recovery codes and security key — from its `dev-users.json`, typed, so a script can log
 * in as `tom`, `kim` or `alex` without hard-coding the temp directory or the port.
 *
 * @example
 * ```ts
 * const seed = readDevSeed();
 * const kim = seed.user('kim');
 * await page.goto(`${seed.origin}/account/login/`);
 * // … kim's username and password, then on the two-factor page:
 * const key = await addVirtualAuthenticator(page);
 * await key.importCredential(kim.securityKey!);
 * await page.getByRole('button', { name: 'Use security key' }).click();
 * ```
 */
export function readDevSeed(options: ReadDevSeedOptions = {}): DevSeed {
  const file = resolve(devSeedFilePath(options.directory === undefined ? process.env : { LATCHKEY_DEV_DIR: options.directory }));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const dir = options.directory ?? process.env.LATCHKEY_DEV_DIR;
    throw new Error(
      `readDevSeed: no dev seed file at ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}). Start the dev server first ` +
        `(\`npm run dev\`)${dir === undefined ? '; if it runs with LATCHKEY_DEV_DIR, pass the same directory here' : ' with the same LATCHKEY_DEV_DIR'}.`,
      { cause: error },
    );
  }
  const seed = JSON.parse(text) as DevSeedFile;
  const users = seed.users as DevSeedUser[];
  return {
    file,
    origin: seed.origin,
    databaseUrl: seed.databaseUrl,
    createdAt: seed.createdAt,
    users,
    user(username) {
      const found = users.find((candidate) => candidate.username === username);
      if (found === undefined)
        throw new Error(`readDevSeed: no seeded user "${username}" in ${file}; the dev server seeded ${users.map((user) => user.username).join(', ')}.`);
      return found;
    },
  };
}
