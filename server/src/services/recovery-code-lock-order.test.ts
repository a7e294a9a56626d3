import {
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  TableNode,
  type UnknownRow,
  UpdateQueryNode,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { untilSomeoneWaitsOnALock } from '../testing/held-transaction.js';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { createServices } from './index.js';

/**
 * Holds a statement's transaction open right after the first UPDATE of `recovery_codes` it sees (the burn of
 * a code), until released: a burn step caught between its two writes.
 */
class PauseAfterCodeBurn implements KyselyPlugin {
  #burns = new WeakSet<QueryId>();
  #paused = false;
  #release!: () => void;
  readonly released = new Promise<void>((resolve) => {
    this.#release = resolve;
  });
  release(): void {
    this.#release();
  }
  transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
    if (UpdateQueryNode.is(node) && node.table && TableNode.is(node.table) && node.table.table.identifier.name === 'recovery_codes') this.#burns.add(queryId);
    return node;
  }
  async transformResult({ queryId, result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.#burns.has(queryId) && !this.#paused) {
      this.#paused = true;
      await this.released;
    }
    return result;
  }
}

// Security-history audit: a login by recovery code now burns its code in the session's transaction, after
// reading the user's row FOR SHARE (services/login.ts startSession) — the order every change of the factors
// takes its locks in (the user's row, then the codes). The burn step (recoveryCodes.confirm) took them the
// other way round: the code, then the row. On PostgreSQL, a confirm caught between its two writes while a
// new set is generated (or a login uses the same code) was a deadlock: one of the two failed with a 500.
describe.each(DIALECTS)('recovery-code lock order on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  let counter = 0;
  /** An account with TOTP and a set of recovery codes. */
  async function withCodes() {
    const user = await h.services.accounts.register({
      username: `lock${Date.now().toString(36)}${(counter++).toString(36)}`,
      email: 'a@example.org',
      password: 'correct horse battery staple',
    });
    await h.services.totp.enable(user.id, h.services.totp.generateSecret());
    return { user, codes: await h.services.recoveryCodes.generate(user.id) };
  }
  /** A confirm of `code` paused between its writes (on SQLite, everything else queues behind it until released). */
  async function confirmCaughtMidway(userId: string, code: string) {
    const pause = new PauseAfterCodeBurn();
    const paused = createServices(h.db.withPlugin(pause), h.config, { now: h.clock });
    const confirming = outcome(paused.recoveryCodes.confirm(userId, code));
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { pause, confirming };
  }
  const outcome = <T>(promise: Promise<T>) =>
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
    );

  it('a login using the code being confirmed: both finish; the code is used once, by the confirm', async () => {
    const { user, codes } = await withCodes();
    const token = await h.services.loginTokens.issue((await h.services.accounts.findById(user.id))!);
    const { pause, confirming } = await confirmCaughtMidway(user.id, codes[0]!);
    const origin = { ip: '198.51.100.4', userAgent: 'test' };
    const login = outcome(h.services.login.recoveryCodeStep({ token, code: codes[0]! }, origin));
    await untilSomeoneWaitsOnALock(h.db, dialect);
    pause.release();
    const [confirmed, loggedIn] = await Promise.all([confirming, login]);
    expect(confirmed).toEqual({ value: 'ok' });
    expect(loggedIn).toMatchObject({ value: { kind: 'invalid', message: expect.stringContaining('already been used') } });
    expect(await h.services.sessions.listForUser(user.id)).toEqual([]);
  });

  it('confirming a code while a new set is generated: both finish, neither deadlocks', async () => {
    const { user, codes } = await withCodes();
    const { pause, confirming } = await confirmCaughtMidway(user.id, codes[0]!);
    const generating = outcome(h.services.recoveryCodes.generate(user.id));
    await untilSomeoneWaitsOnALock(h.db, dialect);
    pause.release();
    const [confirmed, generated] = await Promise.all([confirming, generating]);
    // Before: on PostgreSQL, "deadlock detected" for one of them.
    expect(confirmed).toEqual({ value: 'ok' });
    expect(generated).toMatchObject({ value: expect.any(Array) });
    // The new set replaced the confirmed one, so it awaits its own confirmation.
    expect((await h.services.accounts.findById(user.id))!.recovery_codes_confirmed_at).toBeNull();
  });
});
