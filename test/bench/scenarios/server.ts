// Server rows: the two pages of a login (GET login, GET two-factor), the second-factor steps (wrong TOTP,
// correct TOTP, WebAuthn assertion) and the password step on SQLite, PostgreSQL, and two instances on one
// PostgreSQL, each next to the bare node:http and Express hello ceilings measured right before them (and,
// for the password step, the argon2 limit); event-loop delay inside the servers during the password load.
import { FIELDS, ROUTES } from '@latchkey/shared';
import { currentTotp } from '../../src/kit/current-totp.js';
import { createSessionClient } from '../../src/kit/create-session-client.js';
import type { BenchContext } from '../lib/context.js';
import { ARGON2_LIMIT_NOTE, measureArgon2Limit, measureBare, measureExpressHello } from '../lib/baselines.js';
import { BENCH_PASSWORD, BENCH_RATE_LIMITS, createDeployment, type Deployment } from '../lib/latchkey.js';
import { runLoadMeasured, type LoadRequest, type LoadResult } from '../lib/load.js';
import type { ServerProcess } from '../lib/server-process.js';
import { BENCH_TOTP_SECRET, prepareTotpLogins, prepareWebauthnLogins, twoFactorPathOf } from '../lib/pools.js';
import { seedUsers } from '../lib/seed.js';
import type { BenchRow } from '../lib/table.js';

/** Issue 16: shares of the Express hello (the framework's ceiling), each a median of three runs. */
const LOGIN_PAGE_TARGET = 0.5;
const TWO_FACTOR_PAGE_TARGET = 0.4;
const WRONG_TOTP_TARGET: Record<string, number> = { sqlite: 0.3, postgres: 0.15, 'postgres ×2': 0.15 };
/** Every page (and second step) at 50 connections. */
const PAGE_TARGET_P99_MS = 50;
const PASSWORD_TARGET_RATIO = 0.9;
const EVENT_LOOP_TARGET_P99_MS = 50;

/**
 * Accounts the wrong codes of (b) are spread over, round-robin: at thousands of wrong codes a second for a
 * few seconds, each gets far fewer than the yearly budget's 300 (a row that reaches it shows 429s and is flagged).
 */
const WRONG_CODE_ACCOUNTS = 1_000;
const NOTE_RATE_LIMITS = `Rate limits raised for the bench (Config.rateLimits max 10^9 failures per window): the limiter still reads and writes its DB counters on every request but never trips, so the verification path is measured, not 429s. The yearly TOTP guessing budget stays at its production value (${BENCH_RATE_LIMITS.totpGuessesPerYear.max} an account): wrong codes go round-robin to ${WRONG_CODE_ACCOUNTS.toLocaleString('en-US')} accounts with a token each, so none reaches it.`;
const NOTE_TOTP_POOL =
  'Each request is a different user (TOTP on, own sealed secret, last accepted step older than now) with its own fresh two-factor token, all made beforehand by the server’s services; every request must log in (303).';
const NOTE_WEBAUTHN_POOL =
  'Each request carries its own stored challenge, answered beforehand by the kit’s software authenticator (ES256), and its own two-factor token; keys report sign count 0 (like synced passkeys) so reordered concurrent assertions stay valid.';
const NOTE_LOCAL_BARE =
  'The ceilings again, measured right before this backend’s rows; their "× bare" and "× Express" ratios are to these readings, and "× first …" shows how the machine’s spare capacity drifted since the start.';
const NOTE_GET_PAGE =
  'GET with the cookie of a browser that has loaded a page before (anonymous session cookie, no login): the page is rendered with that visitor’s CSRF token; every response must be 200.';
const NOTE_TWO_INSTANCES =
  'Two server processes on one PostgreSQL; autocannon assigns its connections to the two URLs round-robin (connection i → instance i mod 2), one load generator and one latency histogram.';

/** A form or JSON POST carrying the browser state (cookies, CSRF token) a real client would have. */
interface ClientState {
  cookie: string;
  csrfToken: string;
}

async function browserState(baseUrl: string): Promise<ClientState> {
  const client = createSessionClient(baseUrl);
  const page = await client.get(ROUTES.login);
  if (page.status !== 200 || !page.csrfToken) throw new Error(`GET ${ROUTES.login}: expected 200 with a csrf_token, got ${page.status}`);
  return { cookie: [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; '), csrfToken: page.csrfToken };
}

function form(state: ClientState, path: string, fields: Record<string, string>): LoadRequest {
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: state.cookie, origin: 'http://localhost' },
    body: new URLSearchParams({ [FIELDS.csrfToken]: state.csrfToken, ...fields }).toString(),
  };
}

function json(state: ClientState, path: string, body: unknown): LoadRequest {
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', cookie: state.cookie, [FIELDS.csrfHeader]: state.csrfToken, origin: 'http://localhost' },
    body: JSON.stringify(body),
  };
}

/** The code for the shared bench secret right now, computed once per 30-second step. */
function totpCodes(): { correct(): string; wrong(): string } {
  let step = -1;
  let correct = '';
  let wrong = '';
  const refresh = () => {
    const now = Date.now();
    const current = Math.floor(now / 30_000);
    if (current === step) return;
    step = current;
    correct = currentTotp(BENCH_TOTP_SECRET, { at: now });
    // A well-formed code that matches none of the accepted steps (now ± 1).
    const window = new Set([-1, 0, 1].map((offset) => currentTotp(BENCH_TOTP_SECRET, { at: now + offset * 30_000 })));
    let candidate = (Number(correct) + 500_000) % 1_000_000;
    while (window.has(String(candidate).padStart(6, '0'))) candidate = (candidate + 1) % 1_000_000;
    wrong = String(candidate).padStart(6, '0');
  };
  return {
    correct: () => {
      refresh();
      return correct;
    },
    wrong: () => {
      refresh();
      return wrong;
    },
  };
}

/** Sends one request with fetch and checks its status before the load run, so a broken row fails loudly. */
async function preflight(baseUrl: string, request: LoadRequest, expected: number, what: string): Promise<void> {
  const response = await fetch(new URL(request.path, baseUrl), {
    method: request.method,
    headers: request.headers ?? {},
    ...(request.body === undefined ? {} : { body: request.body }),
    redirect: 'manual',
  });
  if (response.status !== expected) {
    const text = (await response.text()).slice(0, 400);
    throw new Error(`${what}: preflight expected ${expected}, got ${response.status}: ${text}`);
  }
}

/** The row's server CPU per request and, on SQLite, the part of it inside statements, when measured. */
function cpu(result: LoadResult): Pick<BenchRow, 'cpuMicrosPerRequest' | 'statementMicrosPerRequest'> {
  return {
    ...(result.cpuMicrosPerRequest === undefined ? {} : { cpuMicrosPerRequest: result.cpuMicrosPerRequest }),
    ...(result.statementMicrosPerRequest === undefined ? {} : { statementMicrosPerRequest: result.statementMicrosPerRequest }),
  };
}

/** Did every request get the answer the scenario is about? A row where not is never counted as met. */
export function allAnswered(result: LoadResult, expected: number): boolean {
  const total = Object.values(result.statusCounts).reduce((sum, count) => sum + count, 0);
  return total > 0 && (result.statusCounts[String(expected)] ?? 0) === total && result.errors === 0 && result.timeouts === 0;
}

export function statusNote(result: LoadResult, expected: number): string[] {
  if (allAnswered(result, expected)) return [];
  return [
    `Not every request was answered ${expected}: statuses ${JSON.stringify(result.statusCounts)}, errors ${result.errors}, timeouts ${result.timeouts} — the row is not valid.`,
  ];
}

export async function benchServer(context: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const one = context.backends.includes(dialect);
    const two = dialect === 'postgres' && context.backends.includes('postgres×2');
    if (!one && !two) continue;
    const deployment = await createDeployment(dialect, {
      label: dialect,
      ...(context.cpuProfileDir ? { cpuProfileDir: context.cpuProfileDir } : {}),
      statementTimes: dialect === 'sqlite',
    });
    try {
      const passwordHash = await deployment.services.passwords.hash(BENCH_PASSWORD);
      await deployment.addServer();
      const before = context.compareWith ? await deployment.addCompareServer(context.compareWith) : undefined;
      if (one) rows.push(...(await benchBackend(context, deployment, dialect, passwordHash, before)));
      if (two) {
        await deployment.addServer();
        rows.push(...(await benchBackend(context, deployment, 'postgres ×2', passwordHash)));
      }
    } finally {
      await deployment.close();
    }
  }
  return rows;
}

async function benchBackend(context: BenchContext, deployment: Deployment, backend: string, passwordHash: string, before?: ServerProcess): Promise<BenchRow[]> {
  const { connections, durationSeconds, log } = context;
  // This backend's rows are compared with the ceilings measured right before them (the machine may be shared).
  const tag = backend.replace(/\W+/g, '');
  log(`${backend}: bare node:http and Express hello right before`);
  const bare = await measureBare({ connections, durationSeconds, label: `hello-${tag}` });
  const expressHello = await measureExpressHello({ connections, durationSeconds, label: `express-hello-${tag}` });
  const urls = deployment.servers.map((server) => server.url);
  const baseUrl = urls[0]!;
  const rows: BenchRow[] = [
    {
      section: backend,
      scenario: 'bare node:http, right before these rows',
      backend: '—',
      requestsPerSecond: bare.requestsPerSecond,
      p50Ms: bare.latencyP50Ms,
      p99Ms: bare.latencyP99Ms,
      ...cpu(bare),
      ratios: [{ value: bare.requestsPerSecond / context.bare.requestsPerSecond, to: 'first bare' }],
      notes: [NOTE_LOCAL_BARE],
    },
    {
      section: backend,
      scenario: 'Express 5 hello, right before these rows',
      backend: '—',
      requestsPerSecond: expressHello.requestsPerSecond,
      p50Ms: expressHello.latencyP50Ms,
      p99Ms: expressHello.latencyP99Ms,
      ...cpu(expressHello),
      ratios: [
        { value: expressHello.requestsPerSecond / bare.requestsPerSecond, to: 'bare' },
        { value: expressHello.requestsPerSecond / context.expressHello.requestsPerSecond, to: 'first Express' },
      ],
      notes: [NOTE_LOCAL_BARE],
    },
  ];
  const twoInstanceNote = deployment.servers.length > 1 ? [NOTE_TWO_INSTANCES] : [];
  const state = await browserState(baseUrl);
  const codes = totpCodes();
  const ratioToExpress = (result: LoadResult) => ({ value: result.requestsPerSecond / expressHello.requestsPerSecond, to: 'Express' });
  /** Express hello's CPU per request ÷ this row's: the share by cost, which a busy machine does not move. */
  const cpuRatioToExpress = (result: LoadResult) =>
    result.cpuMicrosPerRequest && expressHello.cpuMicrosPerRequest
      ? [{ value: expressHello.cpuMicrosPerRequest / result.cpuMicrosPerRequest, to: 'Express by CPU' }]
      : [];
  const ratioToBare = (result: LoadResult) => ({ value: result.requestsPerSecond / bare.requestsPerSecond, to: 'bare' });
  /** A page or second-step row: its share of the Express hello (and of bare), with a share and p99 target. */
  const pageRow = (scenario: string, result: LoadResult, expected: number, minShare: number | null, notes: string[]): BenchRow => ({
    section: backend,
    scenario,
    backend,
    requestsPerSecond: result.requestsPerSecond,
    p50Ms: result.latencyP50Ms,
    p99Ms: result.latencyP99Ms,
    ...cpu(result),
    ratios: [ratioToExpress(result), ...cpuRatioToExpress(result), ratioToBare(result)],
    target: `${minShare === null ? '' : `≥${minShare}× Express, `}p99≤${PAGE_TARGET_P99_MS}ms`,
    met:
      allAnswered(result, expected) &&
      (minShare === null || result.requestsPerSecond / expressHello.requestsPerSecond >= minShare) &&
      result.latencyP99Ms <= PAGE_TARGET_P99_MS,
    notes: [...notes, ...twoInstanceNote, ...statusNote(result, expected)],
  });
  const get = (path: string, client = state): LoadRequest => ({ method: 'GET', path, headers: { cookie: client.cookie } });

  // With --compare-with, the rows below (except WebAuthn) run first against the other checkout's server on the
  // same database ("[before]"), then against this one: before and after in one run, back to back.
  // Each gets the cookie and CSRF token its own server issued (their cookie formats may differ).
  const variants: { label: string; urls: string[]; servers: ServerProcess[]; state: ClientState }[] = [
    ...(before ? [{ label: ' [before]', urls: [before.url], servers: [before], state: await browserState(before.url) }] : []),
    { label: '', urls, servers: deployment.servers, state },
  ];

  // The login page: what every login starts with.
  for (const variant of variants) {
    log(`${backend}: GET login page${variant.label}`);
    await preflight(variant.urls[0]!, get(ROUTES.login, variant.state), 200, `${backend} GET login${variant.label}`);
    const loginPage = await runLoadMeasured(variant.servers, {
      urls: variant.urls,
      connections,
      durationSeconds,
      nextRequest: () => get(ROUTES.login, variant.state),
    });
    rows.push(pageRow(`GET ${ROUTES.login}${variant.label}`, loginPage, 200, LOGIN_PAGE_TARGET, [NOTE_GET_PAGE]));
  }

  // (b) wrong TOTP: accounts with a token each, round-robin (a wrong code does not use a token up). The first
  // account's token serves the two-factor page first (GET checks the token without using it up).
  const wrongCodeLogins = await prepareTotpLogins(deployment, `wrong-${tag}-`, WRONG_CODE_ACCOUNTS, passwordHash);
  const twoFactorPath = twoFactorPathOf(wrongCodeLogins[0]!);
  for (const variant of variants) {
    log(`${backend}: GET two-factor page${variant.label}`);
    await preflight(variant.urls[0]!, get(twoFactorPath, variant.state), 200, `${backend} GET two-factor${variant.label}`);
    const twoFactorPage = await runLoadMeasured(variant.servers, {
      urls: variant.urls,
      connections,
      durationSeconds,
      nextRequest: () => get(twoFactorPath, variant.state),
    });
    rows.push(
      pageRow(`GET ${ROUTES.twoFactor}?${FIELDS.twoFactorToken}=…${variant.label}`, twoFactorPage, 200, TWO_FACTOR_PAGE_TARGET, [
        NOTE_GET_PAGE,
        'A TOTP user’s two-factor page: the token is checked on every request (HMAC, then its nonce and the user in one statement); the factors to offer come signed in the token.',
      ]),
    );
  }

  let wrongRate = 0;
  for (const variant of variants) {
    let nextWrong = 0;
    const wrongRequest = () =>
      form(variant.state, twoFactorPathOf(wrongCodeLogins[nextWrong++ % wrongCodeLogins.length]!), { [FIELDS.totpValue]: codes.wrong() });
    log(`${backend}: (b) wrong TOTP submits${variant.label}`);
    await preflight(variant.urls[0]!, wrongRequest(), 401, `${backend} wrong TOTP${variant.label}`);
    const wrong = await runLoadMeasured(variant.servers, { urls: variant.urls, connections, durationSeconds, nextRequest: wrongRequest });
    rows.push(pageRow(`(b) TOTP submit, wrong code → page again${variant.label}`, wrong, 401, WRONG_TOTP_TARGET[backend] ?? null, [NOTE_RATE_LIMITS]));
    wrongRate = Math.max(wrongRate, wrong.requestsPerSecond);
  }

  // Single-use pools are sized from the wrong-code rate (a similar amount of work per request), with headroom.
  const poolSize = Math.min(40_000, Math.max(1_000, Math.ceil(wrongRate * durationSeconds * 1.3)));

  // (c) correct TOTP: a fresh user and token per request.
  for (const [index, variant] of variants.entries()) {
    log(`${backend}: (c) preparing ${poolSize} TOTP logins${variant.label}`);
    const totpLogins = await prepareTotpLogins(deployment, `totp-${tag}-${index}-`, poolSize + 1, passwordHash);
    const totpRequest = (login: { token: string }) => form(variant.state, twoFactorPathOf(login), { [FIELDS.totpValue]: codes.correct() });
    await preflight(variant.urls[0]!, totpRequest(totpLogins.pop()!), 303, `${backend} correct TOTP${variant.label}`);
    log(`${backend}: (c) correct TOTP submits${variant.label}`);
    let nextTotp = 0;
    const correct = await runLoadMeasured(variant.servers, {
      urls: variant.urls,
      connections,
      durationSeconds,
      preparedRequests: totpLogins.length,
      nextRequest: () => totpRequest(totpLogins[nextTotp++]!),
    });
    rows.push(
      pageRow(`(c) TOTP submit, correct code → login${variant.label}`, correct, 303, null, [
        NOTE_TOTP_POOL,
        ...(correct.endedByPool ? [`Ended when the ${totpLogins.length} prepared logins were used up (${correct.durationSeconds.toFixed(1)} s).`] : []),
      ]),
    );
  }

  // (d) WebAuthn assertion validate: a fresh challenge, assertion and token per request.
  log(`${backend}: (d) preparing ${poolSize} WebAuthn assertions`);
  const webauthnLogins = await prepareWebauthnLogins(deployment, `key-${tag}-`, poolSize + 1, passwordHash);
  const webauthnRequest = (login: (typeof webauthnLogins)[number]) =>
    json(state, `${ROUTES.webauthnAuthenticateValidate}?${FIELDS.twoFactorToken}=${encodeURIComponent(login.token)}`, { credential: login.credential });
  await preflight(baseUrl, webauthnRequest(webauthnLogins.pop()!), 200, `${backend} WebAuthn validate`);
  log(`${backend}: (d) WebAuthn assertion validate`);
  let nextWebauthn = 0;
  const webauthn = await runLoadMeasured(deployment.servers, {
    urls,
    connections,
    durationSeconds,
    preparedRequests: webauthnLogins.length,
    nextRequest: () => webauthnRequest(webauthnLogins[nextWebauthn++]!),
  });
  rows.push(
    pageRow('(d) WebAuthn assertion validate → login', webauthn, 200, null, [
      NOTE_WEBAUTHN_POOL,
      ...(webauthn.endedByPool ? [`Ended when the ${webauthnLogins.length} prepared assertions were used up (${webauthn.durationSeconds.toFixed(1)} s).`] : []),
    ]),
  );

  // (e) password step (correct password of a TOTP user → 303 to the two-factor page), event loop watched.
  const [passwordUser] = await seedUsers(deployment.databaseUrl, `password-${tag}-`, 1, passwordHash);
  await deployment.services.totp.enable(passwordUser!.id, BENCH_TOTP_SECRET);
  for (const variant of variants) {
    const passwordRequest = () => form(variant.state, ROUTES.login, { [FIELDS.username]: passwordUser!.username, [FIELDS.password]: BENCH_PASSWORD });
    log(`${backend}: (e) password step${variant.label}`);
    const limit = await measureArgon2Limit(context.cores);
    await preflight(variant.urls[0]!, passwordRequest(), 303, `${backend} password step${variant.label}`);
    for (const server of variant.servers) server.startEventLoopDelay();
    const password = await runLoadMeasured(variant.servers, { urls: variant.urls, connections, durationSeconds, nextRequest: passwordRequest });
    const loops = await Promise.all(variant.servers.map((server) => server.stopEventLoopDelay()));
    // Up to `connections` password checks were still queued for the hash pool when the run stopped.
    await new Promise((done) => setTimeout(done, Math.ceil((connections / limit) * 1000)));
    const instances = variant.servers.length;
    rows.push({
      section: backend,
      scenario: `(e) password step (argon2id verify) → two-factor page${variant.label}`,
      backend,
      requestsPerSecond: password.requestsPerSecond,
      p50Ms: password.latencyP50Ms,
      p99Ms: password.latencyP99Ms,
      ...cpu(password),
      ratios: [{ value: password.requestsPerSecond / limit, to: 'argon2 limit' }, ratioToBare(password)],
      target: `≥${PASSWORD_TARGET_RATIO}× argon2 limit`,
      met: allAnswered(password, 303) && password.requestsPerSecond / limit >= PASSWORD_TARGET_RATIO,
      notes: [
        `${ARGON2_LIMIT_NOTE} Measured again right before this row: ${limit.toFixed(1)}/s${instances > 1 ? '; two instances share the same cores, so it does not double' : ''}. The gap to it is CPU the server, the database and the load generator take from the hashing cores.`,
        ...(instances > 1 ? [NOTE_TWO_INSTANCES] : []),
        ...statusNote(password, 303),
      ],
    });
    const worst = loops.reduce((a, b) => (b.p99 > a.p99 ? b : a));
    rows.push({
      section: backend,
      scenario: `event-loop delay during (e)${variant.label}`,
      backend,
      p50Ms: worst.p50,
      p99Ms: worst.p99,
      target: `p99≤${EVENT_LOOP_TARGET_P99_MS}ms`,
      met: worst.p99 <= EVENT_LOOP_TARGET_P99_MS,
      notes: [
        `perf_hooks.monitorEventLoopDelay (10 ms resolution) inside the server process${instances > 1 ? 'es (worst instance shown)' : ''} while (e) ran; max ${Math.max(...loops.map((loop) => loop.max)).toFixed(1)} ms. The delay includes the 10 ms sampling resolution.`,
      ],
    });
  }
  return rows;
}
