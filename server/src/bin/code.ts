/**
 * `npm run admin -- code <username>`: the current TOTP code of a user seeded by `npm run dev`.
 *
 * Why it reads the dev seed file instead of the database: the server stores TOTP secrets encrypted
 * under its secret key, and an admin command that decrypts them would let whoever runs the CLI pass
 * any user's second factor — exactly what 2FA must prevent, even against insiders (ASVS V2.8.4/V1.2:
 * authenticator secrets are not readable by administrators). The dev seeder already knows the secrets
 * of the throw-away users it made; it writes them to a 0600 file next to the throw-away database, and
 * this command only answers for a database that file says it seeded, never in production.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { parseNodeEnv } from '../config.js';
import type { AdminCommand } from './admin.js';
import { ServiceError } from '../services/errors.js';

/** The dev seed file `npm run dev` writes (test/src/dev/dev.ts). */
export interface DevSeedFile {
  databaseUrl: string;
  origin: string;
  createdAt: string;
  users: Array<{
    state: string;
    username: string;
    password: string;
    totpSecret?: string;
    recoveryCodes?: string[];
    securityKey?: { credentialId: string; rpId: string; userHandle: string; privateKeyPkcs8: string };
  }>;
}

/** `LATCHKEY_DEV_DIR`, default `<os temp>/latchkey-dev` (wiped at every `npm run dev` start). */
export function devDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return env.LATCHKEY_DEV_DIR ?? join(tmpdir(), 'latchkey-dev');
}

export function devSeedFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(devDirectory(env), 'dev-users.json');
}

/** The seed file `--seed-file` names (or the dev directory's), or a refusal saying to start the dev server. */
function readSeedFile(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv = process.env): DevSeedFile {
  const file = typeof values['seed-file'] === 'string' ? values['seed-file'] : devSeedFilePath(env);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DevSeedFile;
  } catch {
    // The dev server writes its seed into LATCHKEY_DEV_DIR when given one: say so, or a reader whose dev server
    // runs there reads "start the dev server" of one that is running.
    throw new ServiceError(
      `No dev seed file at ${file}. Start the dev server with \`npm run dev\` first; if it runs with LATCHKEY_DEV_DIR set, give this command the same LATCHKEY_DEV_DIR (or --seed-file PATH).`,
    );
  }
}

/**
 * Why `code` does not run in production, and what to use there: the dev seed file is made only by `npm run dev`
 * for its throw-away users, and no command reads a real user's TOTP secret (see the top of this file).
 */
const IN_PRODUCTION =
  '`code` is a development command and does not run with NODE_ENV=production: the dev seed file it reads is written only by ' +
  '`npm run dev` for its throw-away users, and does not exist in production, where no command reads a user’s TOTP secret. ' +
  'A user who lost their authentication app uses a recovery code or a security key; if all are lost, verify their identity and run ' +
  '`npm run -s admin -- reset-2fa --username NAME --reason "…"`.';

function notSeededHere(seed: DevSeedFile, username: string): ServiceError {
  return new ServiceError(
    `This database was not seeded by \`npm run dev\` (the seed file is for ${seed.databaseUrl}). ` +
      `Run it without DATABASE_URL, or: DATABASE_URL=${seed.databaseUrl} npm run admin -- code ${username}`,
  );
}

export const codeCommand: AdminCommand = {
  summary: 'Print the current TOTP code of a user seeded by `npm run dev` (development only).',
  usage: 'code <username> [--seed-file FILE]',
  help: [
    'Development only: for the throw-away users `npm run dev` seeded. Computes the code from the secret in the seed',
    'file (never from the database, which it cannot decrypt), and refuses NODE_ENV=production and any database the',
    'seed file does not name.',
    '',
    '  --seed-file FILE    the seed file (default: $LATCHKEY_DEV_DIR/dev-users.json, else <temp>/latchkey-dev/dev-users.json)',
    '',
    'Example:',
    '  npm run -s admin -- code tom',
  ].join('\n'),
  options: { 'seed-file': { type: 'string' } },
  maxPositionals: 1,
  /**
   * The seed file's database, read before any configuration: a bare `npm run admin -- code tom` used to load
   * the default configuration first — creating a database and a secret key in the user's real directories —
   * only to refuse it. The key is the environment's or a throw-away one: `code` never opens anything sealed.
   */
  environment({ values, positionals }, env) {
    // Before the seed file: in production there is none, and "No dev seed file … start the dev server" sent the
    // operator looking for one.
    if (parseNodeEnv(env.NODE_ENV, [])) throw new ServiceError(IN_PRODUCTION);
    const seed = readSeedFile(values, env);
    if (env.DATABASE_URL && env.DATABASE_URL !== seed.databaseUrl) throw notSeededHere(seed, positionals[0] ?? 'USER');
    return { ...env, DATABASE_URL: seed.databaseUrl, LATCHKEY_SECRET_KEY: env.LATCHKEY_SECRET_KEY || randomBytes(32).toString('base64url') };
  },
  /** Refused before the database is opened: production, a missing username, a database the seed file is not for. */
  check({ values, positionals }, config) {
    if (config.production) throw new ServiceError(IN_PRODUCTION);
    if (positionals.length !== 1) throw new ServiceError('Give exactly one username, e.g. `npm run admin -- code tom`.');
    const seed = readSeedFile(values);
    if (seed.databaseUrl !== config.databaseUrl) throw notSeededHere(seed, positionals[0]!);
  },
  async run({ values, positionals }, services, io) {
    const username = positionals[0]!;
    const seed = readSeedFile(values);
    const seeded = seed.users.find((candidate) => candidate.username === username.toLowerCase());
    if (seeded === undefined) throw new ServiceError(`"${username}" is not a seeded user (seeded: ${seed.users.map((u) => u.username).join(', ')}).`);
    if (seeded.totpSecret === undefined) throw new ServiceError(`"${seeded.username}" has no authentication app (state: ${seeded.state}).`);
    const user = await services.accounts.findByUsername(seeded.username);
    if (!user || user.totp_secret_enc === null) throw new ServiceError(`"${seeded.username}" no longer has an authentication app in this database.`);

    const totp = new TOTP({ secret: Secret.fromBase32(seeded.totpSecret), algorithm: 'SHA1', digits: 6, period: 30 });
    const now = Date.now();
    const secondsLeft = 30 - (Math.floor(now / 1000) % 30);
    io.stdout(`${totp.generate({ timestamp: now })}  (${seeded.username}; valid for ${secondsLeft} more second${secondsLeft === 1 ? '' : 's'})`);
    return 0;
  },
};
