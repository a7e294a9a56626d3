/**
 * Crash safety (issue 8, point 4): clients register, enable TOTP, burn recovery codes and log in
 * against a server child while it is killed with SIGKILL at a random moment. After a restart on the
 * same database: every account a client saw a 303 for exists, every code a client saw burned stays
 * burned, no account is half-way into TOTP, and the server (migrations included) starts cleanly.
 */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { expect } from 'vitest';
import type { Services } from '../../../server/src/services/index.js';
import { open as openSealed } from '../../../server/src/services/secret-box.js';
import { linkIn, readOutbox } from '../../../server/src/testing/read-outbox.js';
import { createSessionClient, type SessionClient } from '../kit/create-session-client.js';
import { currentTotp } from '../kit/current-totp.js';
import type { Deployment } from './harness/deployment.js';
import { passwordStep, TEST_PASSWORD, uniqueUsername } from './harness/login-flow.js';

/** What the clients were told had happened (a 303/200 answer received before the crash). */
export interface Acknowledged {
  accounts: Set<string>;
  /** username → base32 secret, for every TOTP confirmation answered with success. */
  totp: Map<string, string>;
  /** username → recovery codes shown */
  recoveryCodes: Map<string, string[]>;
  /** [username, code] of every recovery-code login answered with success. */
  burned: [string, string][];
  logins: number;
  /** Requests that died with the server (transport error): their outcome is unknown, and allowed to be either. */
  inFlightAtCrash: number;
}

export interface CrashFigures {
  dialect: string;
  cycles: number;
  acknowledged: { accounts: number; totp: number; burned: number; logins: number; inFlight: number };
  lostAccounts: string[];
  /** TOTP confirmations acknowledged but not in the database (or not decryptable to the same secret). */
  lostTotp: string[];
  /** Burned codes that worked again after the restart. */
  reusableBurnedCodes: string[];
  /** Users whose TOTP columns disagree (secret without enabled time or the reverse). */
  halfEnabled: string[];
  /** Users with TOTP on and no recovery codes at all (TOTP and the first codes share one transaction). */
  totpWithoutRecoveryCodes: number;
  /** Users with TOTP on and no "method added" notice in the outbox (the notice commits with the change). */
  totpWithoutNotice: number;
  restartedHealthy: boolean;
}

/**
 * What every crash run must show, however many kills: the kill landed while requests were in flight
 * (or the run proves nothing), nothing acknowledged was lost or half-written, and the server restarted.
 */
export function expectNothingLost(figures: CrashFigures): void {
  expect(figures.acknowledged.inFlight).toBeGreaterThan(0);
  expect(figures.lostAccounts).toEqual([]);
  expect(figures.lostTotp).toEqual([]);
  expect(figures.reusableBurnedCodes).toEqual([]);
  expect(figures.halfEnabled).toEqual([]);
  // TOTP and the first recovery codes are written in one transaction: never one without the other.
  expect(figures.totpWithoutRecoveryCodes).toBe(0);
  // The mail notice is written in the same transaction as the change it reports.
  expect(figures.totpWithoutNotice).toBe(0);
  expect(figures.restartedHealthy).toBe(true);
}

export function describeCrash(f: CrashFigures): string {
  const a = f.acknowledged;
  return (
    `crash safety ${f.dialect}: ${f.cycles} kill -9 cycle(s) during ${a.accounts} acknowledged registrations, ${a.totp} TOTP enables, ` +
    `${a.burned} recovery-code logins, ${a.logins} TOTP logins (${a.inFlight} requests cut off) → ` +
    `${f.lostAccounts.length} accounts lost, ${f.lostTotp.length} TOTP enables lost, ${f.reusableBurnedCodes.length} burned codes reusable, ` +
    `${f.halfEnabled.length} half-enabled 2FA, ${f.totpWithoutRecoveryCodes} TOTP-without-recovery-codes, ${f.totpWithoutNotice} TOTP-without-notice; restart healthy: ${f.restartedHealthy ? 'yes' : 'NO'}`
  );
}

class ServerGone extends Error {}

/** One request, turning a transport failure (the server died) into {@link ServerGone}. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof TypeError || (error as { cause?: unknown }).cause !== undefined) throw new ServerGone(String(error));
    throw error;
  }
}

function parseSecret(html: string): string | null {
  const match = /<code aria-label="Secret key">([A-Z2-7 ]+)<\/code>/.exec(html);
  return match ? match[1]!.replace(/ /g, '') : null;
}

function parseRecoveryCodes(html: string): string[] {
  const list = /<ol class="recovery-codes"[^>]*>([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '';
  return [...list.matchAll(/<code>([0-9a-f ]{16,19})<\/code>/g)].map((m) => m[1]!.replace(/ /g, ''));
}

/** One client's life: register → enable TOTP (and receive recovery codes) → log out → recovery-code login → log out → TOTP login, repeated. */
async function clientLoop(url: string, services: Services, ack: Acknowledged, stop: { stopped: boolean }): Promise<void> {
  while (!stop.stopped) {
    const username = uniqueUsername('crash');
    const client = createSessionClient(url);
    try {
      const registered = await guarded(() =>
        client.submit(ROUTES.register, {
          [FIELDS.username]: username,
          [FIELDS.email]: `${username}@example.org`,
          [FIELDS.newPassword]: TEST_PASSWORD,
          [FIELDS.passwordConfirm]: TEST_PASSWORD,
        }),
      );
      if (registered.status !== 303) throw new Error(`register answered ${registered.status}: ${registered.body.slice(0, 200)}`);
      ack.accounts.add(username);
      // A first second factor needs a verified address: follow the link the server queued with the account.
      const [mail] = await readOutbox(services, { to: `${username}@example.org`, kind: 'verify-email' });
      if (!mail) throw new Error(`no verification mail queued for an acknowledged registration of ${username}`);
      const verified = await guarded(() => client.get(linkIn(mail.text, ROUTES.verifyEmail)!));
      if (verified.status !== 303) throw new Error(`verification link answered ${verified.status}: ${verified.body.slice(0, 200)}`);

      const provision = await guarded(() => client.get(ROUTES.totpProvision));
      const secret = parseSecret(provision.body);
      if (!secret) throw new Error(`no secret on the provisioning page (status ${provision.status})`);
      let confirmed = await guarded(() => client.post(ROUTES.totpProvision, { [FIELDS.totpValue]: currentTotp(secret) }));
      if (confirmed.status !== 303 && confirmed.status !== 200) throw new Error(`TOTP confirm answered ${confirmed.status}: ${confirmed.body.slice(0, 200)}`);
      ack.totp.set(username, secret);
      if (confirmed.status === 303) confirmed = await guarded(() => client.follow(confirmed));
      const codes = parseRecoveryCodes(confirmed.body);
      if (codes.length > 0) ack.recoveryCodes.set(username, codes);

      await guarded(() => logout(client));
      if (codes.length > 0) {
        const { client: second, token } = await guarded(() => passwordStep(url, { username, password: TEST_PASSWORD }));
        const burn = await guarded(() =>
          second.submit(`${ROUTES.recoveryCode}?${FIELDS.twoFactorToken}=${encodeURIComponent(token)}`, { [FIELDS.recoveryCodeValue]: codes[0]! }),
        );
        if (burn.status !== 303) throw new Error(`recovery-code login answered ${burn.status}: ${burn.body.slice(0, 200)}`);
        ack.burned.push([username, codes[0]!]);
        await guarded(() => logout(second));
      }
      const { client: third, twoFactorUrl } = await guarded(() => passwordStep(url, { username, password: TEST_PASSWORD }));
      // The confirmation spent the current step; the next step's code is accepted as +1 drift.
      const login = await guarded(() => third.post(twoFactorUrl, { [FIELDS.totpValue]: currentTotp(secret, { at: Date.now() + 30_000 }) }));
      if (login.status === 303) ack.logins++;
    } catch (error) {
      if (error instanceof ServerGone) {
        ack.inFlightAtCrash++;
        return;
      }
      throw error;
    }
  }
}

async function logout(client: SessionClient) {
  const page = await client.get(ROUTES.manageAccount);
  if (page.status !== 200) return;
  await client.post(ROUTES.logout, {});
}

/**
 * `cycles` times: run `clients` loops against instance 0, kill it with SIGKILL after a random
 * delay in [minDelayMs, maxDelayMs], restart it on the same database. Then check everything.
 */
export async function runCrashCycles(
  deployment: Deployment,
  { cycles, clients, minDelayMs, maxDelayMs }: { cycles: number; clients: number; minDelayMs: number; maxDelayMs: number },
): Promise<CrashFigures> {
  const ack: Acknowledged = { accounts: new Set(), totp: new Map(), recoveryCodes: new Map(), burned: [], logins: 0, inFlightAtCrash: 0 };
  for (let cycle = 0; cycle < cycles; cycle++) {
    const url = deployment.instances[0]!.url;
    const stop = { stopped: false };
    const loops = Array.from({ length: clients }, () => clientLoop(url, deployment.services, ack, stop));
    // Arm the kill only once work is flowing (a loaded machine can take seconds for the first answer).
    const accountsBefore = ack.accounts.size;
    for (let waited = 0; ack.accounts.size === accountsBefore && waited < 60_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, minDelayMs + Math.random() * (maxDelayMs - minDelayMs)));
    await deployment.instances[0]!.crash();
    stop.stopped = true;
    const settled = await Promise.allSettled(loops);
    const broken = settled.find((s) => s.status === 'rejected');
    if (broken) throw (broken as PromiseRejectedResult).reason;
    // Restart on the same database: migrations run again (must be a no-op).
    await deployment.restart(0);
  }
  return verifyAfterCrash(deployment, ack, cycles);
}

async function verifyAfterCrash(deployment: Deployment, ack: Acknowledged, cycles: number): Promise<CrashFigures> {
  const { services } = deployment;
  const url = deployment.instances[0]!.url;
  const lostAccounts: string[] = [];
  for (const username of ack.accounts) if (!(await services.accounts.findByUsername(username))) lostAccounts.push(username);

  const lostTotp: string[] = [];
  for (const [username, secret] of ack.totp) {
    const user = await services.accounts.findByUsername(username);
    let stored: string | null = null;
    try {
      // The AEAD's associated data is `totp:<user id>` (services/totp.ts).
      stored = user?.totp_secret_enc ? openSealed(services.keys['totp-secret'], user.totp_secret_enc, `totp:${user.id}`) : null;
    } catch {
      stored = null;
    }
    if (!user?.totp_enabled_at || stored !== secret) lostTotp.push(username);
  }

  const reusableBurnedCodes: string[] = [];
  for (const [username, code] of ack.burned) {
    const { client, token } = await passwordStep(url, { username, password: TEST_PASSWORD });
    const again = await client.submit(`${ROUTES.recoveryCode}?${FIELDS.twoFactorToken}=${encodeURIComponent(token)}`, { [FIELDS.recoveryCodeValue]: code });
    if (again.status === 303) reusableBurnedCodes.push(`${username}:${code}`);
  }

  const users = await services.db.selectFrom('users').select(['id', 'username', 'totp_secret_enc', 'totp_enabled_at']).execute();
  const halfEnabled = users.filter((u) => (u.totp_secret_enc === null) !== (u.totp_enabled_at === null)).map((u) => u.username);
  let totpWithoutRecoveryCodes = 0;
  for (const u of users.filter((row) => row.totp_enabled_at !== null)) {
    const codes = await services.db.selectFrom('recovery_codes').select('id').where('user_id', '=', u.id).limit(1).execute();
    if (codes.length === 0) totpWithoutRecoveryCodes++;
  }
  let totpWithoutNotice = 0;
  for (const u of users.filter((row) => row.totp_enabled_at !== null)) {
    const notice = await services.db
      .selectFrom('mail_outbox')
      .select('id')
      .where('user_id', '=', u.id)
      .where('kind', '=', 'notice:method-added')
      .limit(1)
      .execute();
    if (notice.length === 0) totpWithoutNotice++;
  }

  const health = await fetch(new URL(ROUTES.healthz, url)).then(
    async (r) => r.status === 200 && ((await r.json()) as { ok?: boolean }).ok === true,
    () => false,
  );
  return {
    dialect: deployment.dialect,
    cycles,
    acknowledged: { accounts: ack.accounts.size, totp: ack.totp.size, burned: ack.burned.length, logins: ack.logins, inFlight: ack.inFlightAtCrash },
    lostAccounts,
    lostTotp,
    reusableBurnedCodes,
    halfEnabled,
    totpWithoutRecoveryCodes,
    totpWithoutNotice,
    restartedHealthy: health,
  };
}
