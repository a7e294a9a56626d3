/**
 * `npm run dev`: the server on a throw-away, seeded database, plus the extension rebuilt on change.
 *
 * - Database: SQLite in LATCHKEY_DEV_DIR (default <tmp>/latchkey-dev, wiped at start unless another
 *   running `npm run dev` owns it), or a fresh PostgreSQL schema with LATCHKEY_DEV_DIALECT=postgres
 *   (dropped at exit, and when the start fails).
 * - One user per situation (no 2FA, TOTP only, key only, TOTP + key + recovery codes, locked out),
 *   created with the testing kit's createUserIn — the same rules the pages apply — and printed.
 * - `vite build --watch` of the extension's test build (which may fill on http://localhost) into
 *   extension/dist/chromium-dev, not the journeys' dist/chromium-test — load it unpacked in chrome://extensions.
 * - `npm run admin -- code <username>` prints a seeded user's current code.
 * - Mail: .eml files in LATCHKEY_DEV_DIR/mail with subject and links printed, or LATCHKEY_SMTP_URL.
 *   Seeded users' addresses are verified.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../server/src/config.js';
import { createTestDatabaseUrl } from '../../../server/src/db/test-database.js';
import { describeListenFailure, startServer, type RunningServer } from '../../../server/src/main.js';
import { createUserIn, type UserState } from '../kit/create-user-in.js';
import { adminCodeCommand } from './admin-code-command.js';
import { claimDevDirectory } from './claim-dev-directory.js';
import { DEV_EXTENSION_BUILD, devBanner } from './dev-banner.js';
import { devDirectory, devSeedFilePath, type DevSeedFile } from '../../../server/src/bin/code.js';

const SEEDED: Array<{ username: string; state: UserState; situation: string }> = [
  { username: 'nadia', state: 'no-2fa', situation: 'no two-factor yet' },
  { username: 'tom', state: 'totp', situation: 'authentication app (TOTP) only' },
  { username: 'kim', state: 'key', situation: 'security key only' },
  { username: 'alex', state: 'totp+key+recovery', situation: 'TOTP + security key + recovery codes' },
  { username: 'lou', state: 'locked-out', situation: 'locked out (too many wrong codes) for 15 minutes from now' },
];

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const withExtension = !process.argv.includes('--no-extension');
/** One easy password for every seeded user (the server refuses passwords containing the username). */
const DEV_PASSWORD = 'dev-only-password';

async function main(): Promise<void> {
  // Absolute: the printed admin command runs in the server workspace, where a relative path means another place.
  const dir = resolve(devDirectory());
  const claim = claimDevDirectory(dir);
  const dialect = process.env.LATCHKEY_DEV_DIALECT === 'postgres' ? 'postgres' : 'sqlite';
  let postgres: Awaited<ReturnType<typeof createTestDatabaseUrl>> | null = null;
  let server: RunningServer | null = null;
  try {
    if (dialect === 'postgres') postgres = await createTestDatabaseUrl('postgres');
    const databaseUrl = postgres?.databaseUrl ?? `sqlite:${join(dir, 'latchkey.db')}`;
    const port = process.env.PORT ?? '8080';
    // The server's own config loading, with a throw-away key (like the database) unless one is set, kept
    // in the dev directory for the admin CLI: neither ever writes a key into the user's real config directory.
    const secretKey = process.env.LATCHKEY_SECRET_KEY || randomBytes(32).toString('base64url');
    const secretKeyFile = join(dir, 'secret.key');
    writeFileSync(secretKeyFile, `${secretKey}\n`, { mode: 0o600 });
    const config = await loadConfig({
      ...process.env,
      NODE_ENV: 'development',
      PORT: port,
      DATABASE_URL: databaseUrl,
      LATCHKEY_ORIGIN: `http://localhost:${port}`,
      LATCHKEY_SECRET_KEY: secretKey,
    });
    // Without LATCHKEY_SMTP_URL, mail goes to .eml files in the dev directory (thrown away with it) and its links to this console.
    if (config.mail.transport.kind === 'files') config.mail.transport = { ...config.mail.transport, directory: join(dir, 'mail') };
    // "listen EADDRINUSE" alone did not say which setting to change (another dev server on the port).
    server = await startServer(config).catch((error: unknown) => {
      throw new Error(describeListenFailure(error, config));
    });

    const seed: DevSeedFile = { databaseUrl, origin: config.origin, createdAt: new Date().toISOString(), users: [] };
    for (const { username, state } of SEEDED) {
      const user = await createUserIn({ services: server.services, config }, state, { username, password: DEV_PASSWORD });
      const key = user.securityKey?.credentials[0];
      seed.users.push({
        state,
        username: user.username,
        password: user.password,
        ...(user.totpSecret ? { totpSecret: user.totpSecret } : {}),
        ...(user.recoveryCodes ? { recoveryCodes: user.recoveryCodes } : {}),
        ...(key
          ? {
              securityKey: {
                credentialId: key.id,
                rpId: key.rpId,
                userHandle: key.userHandle,
                privateKeyPkcs8: key.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
              },
            }
          : {}),
      });
    }
    const seedFile = resolve(devSeedFilePath());
    writeFileSync(seedFile, `${JSON.stringify(seed, null, 2)}\n`, { mode: 0o600 });

    console.log(
      devBanner({
        origin: config.origin,
        databaseUrl,
        dialect,
        password: DEV_PASSWORD,
        users: SEEDED,
        mailDestination: server.mailDestination,
        adminCommand: adminCodeCommand({ devDirectory: process.env.LATCHKEY_DEV_DIR === undefined ? undefined : dir }),
        seedFile,
        directory: dir,
        withExtension,
      }),
    );
  } catch (error) {
    // Nothing left behind by a start that failed: the server, the PostgreSQL schema, the directory's mark.
    await server?.close();
    await postgres?.drop().catch(() => undefined);
    claim.release();
    throw error;
  }
  const running = server;
  const schema = postgres;

  let watcher: ChildProcess | null = null;
  if (withExtension) {
    watcher = spawn('npx', ['vite', 'build', '--watch'], {
      cwd: join(repoRoot, 'extension'),
      env: { ...process.env, LATCHKEY_TARGET: 'chromium-test', LATCHKEY_OUT_DIR: DEV_EXTENSION_BUILD },
      stdio: 'inherit',
    });
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    watcher?.kill('SIGTERM');
    await running.close();
    await schema?.drop();
    claim.release();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(`npm run dev failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
