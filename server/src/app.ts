import { fileURLToPath } from 'node:url';
import express, { type RequestHandler } from 'express';
import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import { migrateToLatest } from './db/migrate.js';
import { openDatabase } from './db/open-database.js';
import type { Database } from './db/schema.js';
import { accountRoutes } from './routes/account.js';
import { emailRoutes } from './routes/email.js';
import { accountActivityRoutes } from './routes/account-activity.js';
import { forwardedForWithoutPorts } from './forwarded-for.js';
import { errorHandler, methodNotAllowed, notFound, refuseUnroutedMethods } from './routes/errors.js';
import { healthRoutes } from './routes/health.js';
import { manageRoutes } from './routes/manage.js';
import { passwordRoutes } from './routes/password.js';
import { recoveryCodeRoutes } from './routes/recovery-codes.js';
import { RouteTable } from './routes/route-table.js';
import { loadSession, UNSAFE_METHODS, verifyCsrf } from './routes/session.js';
import { twoFactorRoutes } from './routes/two-factor.js';
import { securityHeaders } from './security-headers.js';
import { createServices, type Services } from './services/index.js';
import { checkSecretKey, KEY_MISMATCH } from './services/key-check.js';
import { webauthnRoutes } from './routes/webauthn.js';
import { createMailSender, type MailSender } from './services/mail/mail-sender.js';
import { createMailTransport } from './services/mail/mail-transport.js';

export interface LatchkeyApp {
  app: express.Express;
  db: Kysely<Database>;
  services: Services;
  /** The outbox sender of this instance (null when `config.mail.transport` is `off`). */
  mailSender: MailSender | null;
  /** Where this instance delivers mail, for the start-up log (no credentials). */
  mailDestination: string;
  /** Why the mail configuration is wrong for production (a start-up warning), or null. */
  mailWarning: string | null;
  close(): Promise<void>;
}

/** Stylesheet and small hand-written scripts (server/static) and Vite-built page bundles (server/dist/client). */
const STATIC_DIR = fileURLToPath(new URL('../static', import.meta.url));
const CLIENT_DIR = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? './client' : '../dist/client', import.meta.url));

/** Request size limits: forms are tiny; WebAuthn JSON with attestation certificates stays well under 64 KiB. */
const FORM_LIMIT = '16kb';
const JSON_LIMIT = '64kb';

/**
 * Build the app from a Config (no globals): opens the database, runs migrations (idempotent, locked),
 * wires services and routes. `close()` releases the database.
 */
export async function createApp(config: Config): Promise<LatchkeyApp> {
  const db = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const services = createServices(db, config);
  // Before anything is sealed under it: a key other than the database's would make every stored TOTP
  // secret unreadable (each TOTP login a failure) and seal new mail and links no right server can open.
  if ((await checkSecretKey(db, services.keys, { record: true })) === 'differs') {
    await db.destroy();
    throw new Error(KEY_MISMATCH);
  }
  const app = express();
  app.disable('x-powered-by');
  // Pages and API answers are `no-store`, so a validator is never used: no hash of every body.
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy ?? false);
  app.set('query parser', 'simple');
  // Only with a trusted proxy is X-Forwarded-For read at all; `ip:port` entries are read as their address (why: forwarded-for.ts).
  if (config.trustProxy !== undefined) app.use(forwardedForWithoutPorts());

  // Which methods each path answers, read from the routers below once they are all mounted (RFC 9110 §15.5.6).
  const routes = new RouteTable();
  app.use(securityHeaders(config));
  app.use(refuseUnroutedMethods(routes));
  app.use(healthRoutes(services));
  app.use('/static', express.static(STATIC_DIR, { index: false, maxAge: '1h' }));
  app.use('/static', express.static(CLIENT_DIR, { index: false, maxAge: '1h' }));
  app.use(loadSession(services));
  app.use(forStateChanges(express.urlencoded({ extended: false, limit: FORM_LIMIT, parameterLimit: 32 }), express.json({ limit: JSON_LIMIT }), verifyCsrf()));
  app.use(accountRoutes(services));
  app.use(twoFactorRoutes(services));
  app.use(manageRoutes(services));
  app.use(emailRoutes(services));
  app.use(recoveryCodeRoutes(services));
  app.use(passwordRoutes(services));
  app.use(accountActivityRoutes(services));
  app.use(webauthnRoutes(services));
  routes.learn(app.router);
  app.use(methodNotAllowed(routes));
  app.use(notFound);
  app.use(errorHandler);

  const transport = config.mail.transport.kind === 'off' ? null : createMailTransport(config.mail.transport);
  const mailSender = transport ? createMailSender({ db, transport, mailKey: services.keys['mail-body'], config: config.mail, now: services.now }) : null;
  mailSender?.start();

  return {
    app,
    db,
    services,
    mailSender,
    mailDestination: transport?.describe() ?? 'nowhere (mail stays queued in the outbox)',
    mailWarning: transport?.warning() ?? null,
    // The sender stops first (a delivery in progress finishes and is recorded), then the database closes.
    close: async () => {
      await mailSender?.stop();
      await db.destroy();
    },
  };
}

/**
 * Body parsing and the CSRF check concern state-changing requests only (every one of them passes both);
 * GET and HEAD, most of the traffic, skip the three middleware calls.
 */
function forStateChanges(...steps: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    if (!UNSAFE_METHODS.has(req.method)) return next();
    const run = (index: number, error?: unknown): void => {
      if (error !== undefined) return next(error);
      if (index === steps.length) return next();
      steps[index]!(req, res, (nextError?: unknown) => run(index + 1, nextError === 'route' || nextError === 'router' ? undefined : nextError));
    };
    run(0);
  };
}
