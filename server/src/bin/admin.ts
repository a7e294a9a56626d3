#!/usr/bin/env node
/**
 * Latchkey admin CLI: `npm run admin -- <command> [options]` (uses the same environment variables as
 * the server, so it talks to the same database). Every change is recorded as an event.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { migrateToLatest } from '../db/migrate.js';
import { openDatabase } from '../db/open-database.js';
import { ServiceError } from '../services/errors.js';
import { EVENT_TAGS, NO_ORIGIN } from '../services/events.js';
import { checkNewPassword, type PasswordContext } from '../services/password-rule.js';
import { secretKeyProblem } from '../services/admin.js';
import { createServices, type Services } from '../services/index.js';
import { codeCommand } from './code.js';

/** Where a command writes; injectable for tests. */
export interface AdminIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** All of standard input (for `--password-stdin`). */
  readStdin: () => Promise<string>;
}

export interface AdminCommand {
  summary: string;
  usage: string;
  /**
   * The command queues mail (a verification link, a security notice): sealed with this process's key and
   * linking to its LATCHKEY_ORIGIN, so both must be the server's (checked before it runs).
   */
  queuesMail?: boolean;
  /** Option spec for node:util parseArgs. */
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  /**
   * The environment the configuration is read from, when the command knows better than the shell's (the
   * dev `code` command: its seed file names the database). Throws a ServiceError to refuse before any
   * configuration is read — nothing (a database, a generated key) is made in the user's directories then.
   */
  environment?(args: { values: Record<string, string | boolean | undefined>; positionals: string[] }, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  run(args: { values: Record<string, string | boolean | undefined>; positionals: string[] }, services: Services, io: AdminIo): Promise<number>;
}

/** Every command. Add new ones here (the testing kit adds `seed-dev` and `code`). */
export const COMMANDS: Record<string, AdminCommand> = {
  'create-user': {
    summary: 'Create an account (password from stdin, or a generated one printed once); --verified vouches for the address.',
    usage: 'create-user --username NAME --email ADDRESS [--password-stdin] [--verified]',
    queuesMail: true,
    options: { username: { type: 'string' }, email: { type: 'string' }, 'password-stdin': { type: 'boolean' }, verified: { type: 'boolean' } },
    async run({ values }, services, io) {
      const username = requireString(values.username, '--username');
      const email = requireString(values.email, '--email');
      // Passwords never go on the command line (visible in `ps` and shell history).
      const generated = values['password-stdin'] ? null : generatePassword({ username, email, indexName: services.config.rpName });
      const password = generated ?? (await io.readStdin()).replace(/\r?\n$/, '');
      // --verified: the administrator checked the address out of band; otherwise the server mails a link.
      const verified = values.verified === true;
      // The operator may create the names kept from self-service registration (a staff account named "security").
      const user = await services.accounts.register({ username, email, password }, NO_ORIGIN, { emailVerified: verified, allowReservedName: true });
      await services.events.record({
        userId: user.id,
        tag: EVENT_TAGS.adminUserCreated,
        origin: NO_ORIGIN,
        details: { actor: actor(), emailVerified: verified },
      });
      io.stdout(`Created account "${user.username}" (${user.email}).`);
      io.stdout(verified ? 'The address is marked verified.' : 'A verification link is queued for the address (the running server sends it).');
      if (generated) io.stdout(`Password (shown once, ask the user to keep it safe): ${generated}`);
      return 0;
    },
  },
  'reset-2fa': {
    summary: 'Remove every second factor of an account (lock-out recovery after an identity check).',
    usage: 'reset-2fa --username NAME --reason "how the identity was verified"',
    queuesMail: true,
    options: { username: { type: 'string' }, reason: { type: 'string' } },
    async run({ values }, services, io) {
      const username = requireString(values.username, '--username');
      const reason = requireString(values.reason, '--reason');
      const user = await services.admin.resetTwoFactor(username, { reason, actor: actor() });
      io.stdout(
        `Two-factor authentication reset for "${user.username}": authentication app, security keys and recovery codes removed, ` +
          'all sessions and remembered devices ended. The user can now log in with the password and should set up 2FA again.',
      );
      return 0;
    },
  },
  events: {
    summary: "Show an account's security events, newest first.",
    usage: 'events --username NAME [--limit N] [--json]',
    options: { username: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values }, services, io) {
      const username = requireString(values.username, '--username');
      const limit = values.limit === undefined ? 50 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError('--limit must be a whole number from 1 to 10000.');
      const user = await services.accounts.findByUsername(username);
      // A deleted account's history went with it; the error says when its name's account went.
      if (!user) throw await services.accounts.noSuchAccount(username);
      const events = await services.events.list(user.id, { limit });
      if (values.json) {
        io.stdout(JSON.stringify(events, null, 2));
        return 0;
      }
      if (events.length === 0) io.stdout('No events.');
      for (const event of events) {
        const details = Object.keys(event.details).length ? ` ${JSON.stringify(event.details)}` : '';
        io.stdout(`${new Date(event.createdAt).toISOString()}  ${event.tag.padEnd(40)} ${event.ip ?? '-'}${details}`);
      }
      return 0;
    },
  },
  code: codeCommand,
};

class UsageError extends Error {}

function requireString(value: string | boolean | undefined, flag: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`${flag} is required.`);
  return value;
}

function actor(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()} (admin CLI)`;
  } catch {
    return 'admin CLI';
  }
}

export function helpText(): string {
  const lines = ['Usage: npm run admin -- <command> [options]', '', 'Commands:'];
  for (const [name, command] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${command.summary}`, `               ${command.usage}`);
  lines.push('', 'The database is chosen like the server: DATABASE_URL (default: SQLite in the user data directory).');
  return lines.join('\n');
}

/** Run one command; returns the process exit code. `config` defaults to the environment's. */
export async function runAdmin(argv: string[], io: AdminIo, config?: Config): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(helpText());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`Unknown command "${name}".\n\n${helpText()}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`Usage: npm run admin -- ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  let args: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    args = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true }) as typeof args;
  } catch (error) {
    io.stderr(`${(error as Error).message}\nUsage: npm run admin -- ${command.usage}`);
    return 1;
  }
  let resolved: Config;
  try {
    resolved = config ?? (await loadConfig(command.environment ? command.environment(args, process.env) : process.env));
    if (!config && resolved.secretKeyWarning) io.stderr(`Warning: ${resolved.secretKeyWarning}`);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`Configuration error: ${error.message}`);
      return 2;
    }
    if (error instanceof ServiceError) {
      io.stderr(error.message);
      return 1;
    }
    throw error;
  }
  const db = openDatabase(resolved.databaseUrl);
  try {
    await migrateToLatest(db);
    const services = createServices(db, resolved);
    if (command.queuesMail) {
      const problem = await secretKeyProblem(db, services.keys, { keyJustGenerated: resolved.secretKeyGenerated === true });
      if (problem) {
        io.stderr(`Configuration error: ${problem}`);
        return 2;
      }
      // Links in mail are built from LATCHKEY_ORIGIN; the server's own may differ from this shell's default.
      if (!config && !process.env.LATCHKEY_ORIGIN?.trim()) {
        io.stderr(`Warning: LATCHKEY_ORIGIN is not set, so links in the mail this queues point at ${resolved.origin}. Set it as the server does.`);
      }
    }
    return await command.run(args, services, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\nUsage: npm run admin -- ${command.usage}`);
      return 1;
    }
    if (error instanceof ServiceError) {
      io.stderr(error.message);
      return 1;
    }
    throw error;
  } finally {
    await db.destroy();
  }
}

const processIo: AdminIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runAdmin(process.argv.slice(2), processIo).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`admin: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}

/**
 * A random password for a new account (120 bits) that the password rule accepts: a random one can, rarely,
 * hold the username or the address's name (about 1 in 2 000 for a 3-letter name), which the rule refuses.
 */
export function generatePassword(context: PasswordContext, random: () => string = () => randomBytes(15).toString('base64url')): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const candidate = random();
    if (checkNewPassword(candidate, context).ok) return candidate;
  }
  throw new Error('No random password passed the password rule in 100 tries.');
}
