/**
 * Fuzzing (issue 8, point 3): fast-check generates hostile requests against every route of a server
 * running in a child process; every answer must be < 500 and free of stack traces, the process must
 * stay alive, and /healthz must answer 200 {ok:true} afterwards.
 */
import fc from 'fast-check';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { createSessionClient } from '../kit/create-session-client.js';
import { softAuthenticator } from '../kit/soft-authenticator.js';
import type { Deployment } from './harness/deployment.js';
import { cookieHeader, passwordStep, TEST_PASSWORD, uniqueUsername } from './harness/login-flow.js';
import { leaksInternals, sendRaw } from './harness/raw-http.js';
import { hasSecurityHeaders } from './harness/security-headers.js';
import { fuzzCaseArb, materialize, type FuzzContext } from './fuzz-requests.js';
import { NO_ORIGIN } from '../../../server/src/services/index.js';
import { linkIn, readOutbox } from '../../../server/src/testing/read-outbox.js';

export interface FuzzFigures {
  requests: number;
  routes: number;
  /** Answers by status class, e.g. {"2xx": 10, "3xx": 4, "4xx": 9000}. */
  byClass: Record<string, number>;
  serverErrors: number;
  leaks: number;
  /** Answers without the CSP / frame headers of DESIGN.md section 2 (must be 0: every page, errors included). */
  missingSecurityHeaders: number;
  transportErrors: number;
  /** Dropped connections by body kind of the request (huge bodies are cut off early by design). */
  transportErrorsByBody: Record<string, number>;
  healthyAfter: boolean;
  aliveAfter: boolean;
  seed: number;
}

export function describeFuzz(f: FuzzFigures): string {
  const classes = Object.entries(f.byClass)
    .sort()
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  return (
    `fuzz: ${f.requests} generated requests over ${f.routes} routes (seed ${f.seed}) → ${classes}; ` +
    `${f.serverErrors} 5xx, ${f.leaks} stack-trace leaks, ${f.missingSecurityHeaders} answers without CSP/frame headers, ${f.transportErrors} dropped connections (${
      Object.entries(f.transportErrorsByBody)
        .map(([k, v]) => `${v} ${k} body`)
        .join(', ') || 'none'
    }); ` +
    `process alive: ${f.aliveAfter ? 'yes' : 'NO'}, /healthz OK after: ${f.healthyAfter ? 'yes' : 'NO'}`
  );
}

/** Real credentials to mix into the generated requests, so validation past the first check is reached. */
export async function harvestContext(deployment: Deployment): Promise<FuzzContext> {
  const url = deployment.urls()[0]!;
  const username = uniqueUsername('fuzz');
  // Verified: a first second factor needs it (the key below is added through the pages).
  await deployment.services.accounts.register({ username, email: `${username}@example.org`, password: TEST_PASSWORD }, NO_ORIGIN, { emailVerified: true });
  const user = (await deployment.services.accounts.findByUsername(username))!;
  // A second, unverified address: its real verification link is mixed into requests to /account/verify-email/.
  const second = await deployment.services.emails.add(user.id, `second-${username}@example.org`, NO_ORIGIN);
  const [verifyMail] = await readOutbox(deployment.services, { to: second.email, kind: 'verify-email' });
  const emailVerifyToken = new URL(linkIn(verifyMail!.text, ROUTES.verifyEmail)!, url).searchParams.get('token')!;
  // A key first (password-only login), then TOTP and recovery codes: every 2FA method is present.
  const owner = createSessionClient(url);
  const login = await owner.submit(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: TEST_PASSWORD });
  if (login.status !== 303) throw new Error(`fuzz setup: login answered ${login.status}`);
  await owner.get(ROUTES.webauthnProvision);
  const key = softAuthenticator();
  const creation = await owner.postJson(ROUTES.webauthnProvisionOptions, {});
  const credential = key.createRegistrationResponse(creation.json(), { origin: deployment.config.origin });
  const registered = await owner.postJson(ROUTES.webauthnProvisionValidate, { credential, label: 'fuzz key' });
  if (registered.status !== 200) throw new Error(`fuzz setup: key registration answered ${registered.status}: ${registered.body.slice(0, 200)}`);
  await deployment.services.totp.enable(user.id, deployment.services.totp.generateSecret());
  await deployment.services.recoveryCodes.generate(user.id);
  const account = await owner.get(ROUTES.manageAccount);
  if (account.status !== 200 || owner.csrfToken === undefined) throw new Error(`fuzz setup: account page answered ${account.status}`);

  const pending = await passwordStep(url, { username, password: TEST_PASSWORD });
  // An expired token signed with the real key: issued by the services with the clock 10 minutes back.
  const past = deployment.servicesAt(-600_000);
  const expiredTwoFactorToken = await past.loginTokens.issue((await past.accounts.findById(user.id))!);
  return {
    sessionCookie: cookieHeader(owner),
    sessionCsrf: owner.csrfToken,
    pendingCookie: cookieHeader(pending.client),
    pendingCsrf: pending.client.csrfToken!,
    twoFactorToken: pending.token,
    expiredTwoFactorToken,
    emailVerifyToken,
  };
}

/**
 * Run `requests` generated requests (in batches of `parallel`, sent concurrently) against
 * instance 0. Failures are collected rather than thrown, so the figures are complete; fast-check's
 * shrinking is used when an assertion fails inside the property (a 5xx or a leak).
 */
export async function runFuzz(
  deployment: Deployment,
  { requests, parallel = 8, seed = Date.now() % 2 ** 31 }: { requests: number; parallel?: number; seed?: number },
): Promise<FuzzFigures & { failures: string[] }> {
  const instance = deployment.instances[0]!;
  const context = await harvestContext(deployment);
  const byClass: Record<string, number> = {};
  const failures: string[] = [];
  let sent = 0;
  let serverErrors = 0;
  let leaks = 0;
  let missingSecurityHeaders = 0;
  let transportErrors = 0;
  const transportErrorsByBody: Record<string, number> = {};

  await fc
    .assert(
      fc.asyncProperty(fc.array(fuzzCaseArb, { minLength: parallel, maxLength: parallel }), async (cases) => {
        const answers = await Promise.allSettled(cases.map((c) => sendRaw(instance.url, materialize(c, context))));
        let ok = true;
        answers.forEach((answer, i) => {
          sent++;
          if (answer.status === 'rejected') {
            // A reset connection (e.g. the server refusing a 3 MB body early) is fine; a dead server is not.
            transportErrors++;
            const kind = cases[i]!.body.kind;
            transportErrorsByBody[kind] = (transportErrorsByBody[kind] ?? 0) + 1;
            if (!instance.alive()) ok = false;
            return;
          }
          const { status, body, headers } = answer.value;
          // An empty answer has no page to protect; Node's own refusals (a 30 KB URL's 431) carry the headers too (server/src/client-error.ts).
          if (body !== '' && !hasSecurityHeaders(headers)) {
            missingSecurityHeaders++;
            ok = false;
            if (failures.length < 20) failures.push(`no CSP/frame headers on ${status} for ${JSON.stringify(cases[i]).slice(0, 300)}`);
          }
          const cls = `${Math.floor(status / 100)}xx`;
          byClass[cls] = (byClass[cls] ?? 0) + 1;
          if (status >= 500) {
            serverErrors++;
            ok = false;
            if (failures.length < 20) failures.push(`${status} for ${JSON.stringify(cases[i]).slice(0, 400)}: ${body.slice(0, 200)}`);
          }
          if (leaksInternals(body)) {
            leaks++;
            ok = false;
            if (failures.length < 20) failures.push(`leak for ${JSON.stringify(cases[i]).slice(0, 400)}: ${body.slice(0, 300)}`);
          }
        });
        return ok;
      }),
      // Keep running after a failure would be nicer for counting, but shrinking a failure is worth more.
      { numRuns: Math.ceil(requests / parallel), seed, endOnFailure: true },
    )
    .catch((error: unknown) => {
      failures.push(String(error instanceof Error ? error.message : error).slice(0, 2_000));
    });

  const health = instance.alive() ? await sendRaw(instance.url, { method: 'GET', path: ROUTES.healthz }).catch(() => null) : null;
  let healthyAfter = false;
  try {
    healthyAfter = health?.status === 200 && (JSON.parse(health.body) as { ok?: unknown }).ok === true;
  } catch {
    healthyAfter = false;
  }
  return {
    requests: sent,
    routes: Object.keys(ROUTES).length,
    byClass,
    serverErrors,
    leaks,
    missingSecurityHeaders,
    transportErrors,
    transportErrorsByBody,
    healthyAfter,
    aliveAfter: instance.alive(),
    seed,
    failures,
  };
}
