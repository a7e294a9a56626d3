import { DOM, OtpauthUriError, parseOtpauthUri, validateTotpAccount } from '@latchkey/shared';
import { Secret, TOTP } from 'otpauth';
import { DEFAULT_KDF, type KdfParams, warmUpKdf } from '../vault/kdf.js';
import { exportBackup, isBackupFile, mergeAccounts, newAccount, parseOtpauthLines, readBackup } from '../vault/backup.js';
import { normalizeOrigin, OriginError, originMatches, tabOrigin } from '../vault/origin.js';
import { parseSettings, type VaultAccount, type VaultPayload } from '../vault/payload.js';
import { VaultAuthError, VaultFormatError } from '../vault/record.js';
import {
  changePassphrase,
  createVault,
  openVault,
  unlockVault,
  vaultExists,
  VaultExistsError,
  VaultMissingError,
  writeVault,
  type UnlockedVault,
  type VaultStorageArea,
} from '../vault/vault-store.js';
import { fillCodeInPage, pressSecurityKeyButton, probePage, type PageProbe, type PageResult } from '../content/page-functions.js';
import type { KeySession } from './key-session.js';
import type { AccountView, ErrorCode, Request, Response, ResponseMap } from './messages.js';

/** Browser capabilities the service needs, passed in so it can be tested without a browser. */
export interface ServiceDeps {
  storage: VaultStorageArea;
  session: KeySession;
  /** The tab's current URL, or undefined when the extension may not see it. */
  tabUrl(tabId: number): Promise<string | undefined>;
  /** Run one of the page functions in the top frame of `tabId` and return its result. */
  inject<A extends unknown[], R>(tabId: number, func: (...args: A) => R, args: A): Promise<R>;
  /** (Re)arm the auto-lock timer; `null` cancels it. */
  scheduleAutoLock(minutes: number | null): Promise<void>;
  now(): number;
  /** KDF cost for new vaults and passphrase changes; only tests pass anything but the default. */
  kdf?: KdfParams;
}

/** A refusal with a message for the person; `code` lets the popup react (e.g. show the unlock screen). */
export class UserFacingError extends Error {
  constructor(
    message: string,
    readonly code?: ErrorCode,
  ) {
    super(message);
  }
}

const CODE_SELECTORS = [DOM.totpInputSelector, DOM.oneTimeCodeSelector] as const;

const PAGE_REFUSALS: Record<Exclude<PageResult, { ok: true }>['reason'], string> = {
  'not-top-frame': 'Refused: the code field is inside a frame. Latchkey fills only the page itself.',
  'wrong-origin': 'Refused: the page changed to another site before the code could be filled.',
  'no-field': 'This page has no two-factor code field. Open the two-factor step of the login first.',
  'field-disabled': 'The code field on this page is disabled.',
  'no-security-key': 'This page does not offer a security key.',
};

/** The background's request handler: owns the key, the vault and every rule about filling. */
export function createVaultService(deps: ServiceDeps) {
  const kdf = deps.kdf ?? DEFAULT_KDF;
  let queue: Promise<unknown> = Promise.resolve();

  /** One request at a time: a read-modify-write of the vault must not interleave with another. */
  function serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  }

  async function startSession(vault: UnlockedVault): Promise<void> {
    const minutes = vault.payload.settings.autoLockMinutes;
    await deps.session.set({ key: vault.key, kdf: vault.kdf, autoLockMinutes: minutes, expiresAt: deps.now() + minutes * 60_000 });
    await deps.scheduleAutoLock(minutes);
  }

  /** The open vault, or a "locked" refusal. Every use counts as activity and pushes the auto-lock back. */
  async function requireOpen(): Promise<UnlockedVault> {
    const current = await deps.session.get(deps.now());
    if (!current) throw new UserFacingError('The vault is locked.', 'locked');
    let vault: UnlockedVault;
    try {
      vault = await openVault(deps.storage, current.key, current.kdf);
    } catch {
      await lock();
      throw new UserFacingError('The vault is locked.', 'locked');
    }
    await startSession(vault);
    return vault;
  }

  async function save(vault: UnlockedVault, payload: VaultPayload): Promise<void> {
    await writeVault(deps.storage, vault.key, vault.kdf, payload);
  }

  async function lock(): Promise<void> {
    await deps.session.clear();
    await deps.scheduleAutoLock(null);
  }

  function view(account: VaultAccount): AccountView {
    const { id, issuer, label, origin, digits, period } = account;
    return { id, issuer, label, origin, digits, period, code: currentCode(account, deps.now()) };
  }

  async function probe(tabId: number): Promise<PageProbe | null> {
    try {
      return await deps.inject(tabId, probePage, [CODE_SELECTORS, DOM.webauthnBeginButtonId]);
    } catch {
      return null; // no access to this page: nothing to offer there
    }
  }

  async function runInPage<A extends unknown[]>(tabId: number, func: (...args: A) => PageResult, args: A): Promise<PageResult> {
    try {
      return await deps.inject(tabId, func, args);
    } catch {
      throw new UserFacingError(
        'Latchkey has no access to this page. Click the Latchkey toolbar button on the page itself, or allow the site in the extension settings.',
        'refused',
      );
    }
  }

  const handlers: { [K in Request['type']]: (request: Extract<Request, { type: K }>) => Promise<ResponseMap[K]> } = {
    async status() {
      if (!(await vaultExists(deps.storage))) return { state: 'none' };
      if (await deps.session.get(deps.now())) return { state: 'unlocked' };
      // The popup is about to show the unlock screen: get the KDF ready while the person types.
      void warmUpKdf();
      return { state: 'locked' };
    },

    async create({ passphrase }) {
      assertPassphrase(passphrase);
      const vault = await createVault(deps.storage, passphrase, kdf);
      await startSession(vault);
      return { state: 'unlocked' };
    },

    async unlock({ passphrase }) {
      const vault = await unlockVault(deps.storage, passphrase);
      if (vault.restoredFromPrevious) await save(vault, vault.payload); // repair the damaged current record
      await startSession(vault);
      return { state: 'unlocked', restoredFromPrevious: vault.restoredFromPrevious };
    },

    async lock() {
      await lock();
      return { state: 'locked' };
    },

    async codes() {
      const vault = await requireOpen();
      return { accounts: vault.payload.accounts.map(view), settings: vault.payload.settings };
    },

    async 'tab-context'({ tabId }) {
      if (tabId === null) return { tabId, origin: null, hasCodeField: false, hasSecurityKey: false };
      const origin = tabOrigin(await deps.tabUrl(tabId));
      const page = origin === null ? null : await probe(tabId);
      const trusted = page !== null && page.topFrame && page.origin === origin;
      return { tabId, origin, hasCodeField: trusted && page.hasCodeField, hasSecurityKey: trusted && page.hasSecurityKey };
    },

    async 'add-account'({ account: input }) {
      const vault = await requireOpen();
      const origin = normalizeOrigin(input.origin);
      const params =
        input.uri !== undefined && input.uri.trim() !== ''
          ? parseOtpauthUri(input.uri)
          : validateTotpAccount({ issuer: input.issuer ?? '', label: input.label ?? '', secret: input.secret ?? '' });
      const account = newAccount(params, origin, deps.now());
      const merged = mergeAccounts(vault.payload.accounts, [account]);
      const existing = [...merged.duplicates, ...merged.conflicts][0];
      if (existing) {
        throw new UserFacingError(
          merged.duplicates.length > 0
            ? `This account is already in Latchkey (${describe(existing)}).`
            : `An account named ${describe(existing)} for ${origin} already exists with a different secret. Delete or rename it first.`,
        );
      }
      await save(vault, { ...vault.payload, accounts: merged.accounts });
      return { account: view(account) };
    },

    async 'update-account'({ id, issuer, label, origin }) {
      const vault = await requireOpen();
      const current = findAccount(vault, id);
      const params = validateTotpAccount({ ...current, issuer, label });
      const updated: VaultAccount = { ...current, ...params, origin: normalizeOrigin(origin) };
      const accounts = vault.payload.accounts.map((a) => (a.id === id ? updated : a));
      await save(vault, { ...vault.payload, accounts });
      return { account: view(updated) };
    },

    async 'delete-account'({ id }) {
      const vault = await requireOpen();
      findAccount(vault, id);
      await save(vault, { ...vault.payload, accounts: vault.payload.accounts.filter((a) => a.id !== id) });
      return {};
    },

    async fill({ id, tabId }) {
      const vault = await requireOpen();
      const account = findAccount(vault, id);
      return fillAccount(vault, account, tabId);
    },

    async 'security-key'({ tabId }) {
      const origin = tabOrigin(await deps.tabUrl(tabId));
      if (origin === null) throw new UserFacingError('This page is not a web page Latchkey can work with.', 'refused');
      const result = await runInPage(tabId, pressSecurityKeyButton, [origin, DOM.webauthnBeginButtonId]);
      if (!result.ok) throw new UserFacingError(PAGE_REFUSALS[result.reason], 'refused');
      return {};
    },

    async 'save-settings'({ settings }) {
      const vault = await requireOpen();
      const next = parseSettings(settings);
      await save(vault, { ...vault.payload, settings: next });
      await startSession({ ...vault, payload: { ...vault.payload, settings: next } });
      return { settings: next };
    },

    async 'change-passphrase'({ current, next }) {
      await requireOpen();
      assertPassphrase(next);
      let vault: UnlockedVault;
      try {
        vault = await changePassphrase(deps.storage, current, next, kdf);
      } catch (error) {
        if (error instanceof VaultAuthError) throw new UserFacingError('The current passphrase is wrong. Nothing was changed.', 'wrong-passphrase');
        throw error;
      }
      await startSession(vault);
      return {};
    },

    async export() {
      const vault = await requireOpen();
      const date = new Date(deps.now()).toISOString().slice(0, 10);
      return { filename: `latchkey-backup-${date}.json`, text: exportBackup(vault.key, vault.kdf, vault.payload, deps.now()) };
    },

    async import({ text, passphrase, origin }) {
      const vault = await requireOpen();
      let incoming: VaultAccount[];
      let errors: Array<{ line: number; message: string }> = [];
      if (isBackupFile(text)) {
        if (!passphrase) throw new UserFacingError('This is an encrypted Latchkey backup: enter the passphrase it was exported with.', 'needs-passphrase');
        try {
          incoming = await readBackup(text, passphrase);
        } catch (error) {
          if (error instanceof VaultAuthError) throw new UserFacingError('Wrong passphrase for this backup (or the file was altered). Nothing was imported.', 'needs-passphrase');
          throw error;
        }
      } else {
        const parsed = parseOtpauthLines(text);
        if (parsed.accounts.length === 0 && parsed.errors.length === 0) throw new UserFacingError('The file is empty: nothing to import.');
        const fillOrigin = normalizeOrigin(origin);
        incoming = parsed.accounts.map((params) => newAccount(params, fillOrigin, deps.now()));
        errors = parsed.errors;
      }
      const merged = mergeAccounts(vault.payload.accounts, incoming);
      if (merged.added.length > 0) await save(vault, { ...vault.payload, accounts: merged.accounts });
      return {
        added: merged.added.length,
        duplicates: merged.duplicates.map(describe),
        conflicts: merged.conflicts.map(describe),
        errors,
      };
    },
  };

  async function fillAccount(vault: UnlockedVault, account: VaultAccount, tabId: number): Promise<ResponseMap['fill']> {
    const url = await deps.tabUrl(tabId);
    const origin = tabOrigin(url);
    if (origin === null) {
      throw new UserFacingError('Latchkey cannot see which site this tab is on, so it will not fill a code here.', 'refused');
    }
    if (!originMatches(account.origin, url)) {
      throw new UserFacingError(
        `Refused: this tab is ${origin}, but ${describe(account)} fills only on ${account.origin}. No code was sent to the page.`,
        'refused',
      );
    }
    const result = await runInPage(tabId, fillCodeInPage, [
      { code: currentCode(account, deps.now()), origin: account.origin, submit: vault.payload.settings.autoSubmit, selectors: CODE_SELECTORS },
    ]);
    if (!result.ok) throw new UserFacingError(PAGE_REFUSALS[result.reason], 'refused');
    return { submitted: result.submitted === true };
  }

  /**
   * The keyboard command: fill the one account for the active tab's site. Returns false when the
   * person has to choose (locked, no match, several matches) so the caller can open the popup.
   */
  async function fillForTab(tabId: number): Promise<boolean> {
    return serialized(async () => {
      const current = await deps.session.get(deps.now());
      if (!current) return false;
      const vault = await requireOpen();
      const url = await deps.tabUrl(tabId);
      const matches = vault.payload.accounts.filter((a) => originMatches(a.origin, url));
      if (matches.length !== 1 || !matches[0]) return false;
      await fillAccount(vault, matches[0], tabId);
      return true;
    });
  }

  /** Answer one popup request; never throws — errors become `{ ok: false, error }`. */
  async function handle<T extends Request['type']>(request: Extract<Request, { type: T }>): Promise<Response<T>> {
    const handler = handlers[request.type] as ((r: typeof request) => Promise<ResponseMap[T]>) | undefined;
    if (!handler) return { ok: false, error: 'Unknown request.' };
    try {
      const result = await serialized(() => handler(request));
      return { ok: true, ...result } as Response<T>;
    } catch (error) {
      return toErrorResponse(error);
    }
  }

  return { handle, lock: () => serialized(lock), fillForTab };
}

/** The current TOTP code for an account (RFC 6238, via the otpauth library). */
export function currentCode(account: Pick<VaultAccount, 'secret' | 'algorithm' | 'digits' | 'period'>, now: number): string {
  return new TOTP({
    secret: Secret.fromBase32(account.secret),
    algorithm: account.algorithm,
    digits: account.digits,
    period: account.period,
  }).generate({ timestamp: now });
}

function findAccount(vault: UnlockedVault, id: string): VaultAccount {
  const account = vault.payload.accounts.find((a) => a.id === id);
  if (!account) throw new UserFacingError('That account no longer exists.');
  return account;
}

function describe(account: Pick<VaultAccount, 'issuer' | 'label'>): string {
  return account.issuer ? `${account.issuer}: ${account.label}` : account.label;
}

/** NIST SP 800-63B 5.1.1.2: length is what matters; no composition rules. */
const MIN_PASSPHRASE_LENGTH = 10;

function assertPassphrase(passphrase: string): void {
  if (typeof passphrase !== 'string' || [...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new UserFacingError(`Use a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters.`);
  }
}

function toErrorResponse(error: unknown): { ok: false; error: string; code?: ErrorCode } {
  if (error instanceof UserFacingError) return { ok: false, error: error.message, ...(error.code ? { code: error.code } : {}) };
  if (error instanceof VaultAuthError) return { ok: false, error: 'Wrong passphrase.', code: 'wrong-passphrase' };
  if (
    error instanceof OtpauthUriError ||
    error instanceof OriginError ||
    error instanceof VaultFormatError ||
    error instanceof VaultExistsError ||
    error instanceof VaultMissingError
  ) {
    return { ok: false, error: error.message };
  }
  // Unexpected: say so plainly without leaking internals (never a secret: messages hold none).
  return { ok: false, error: `Something went wrong: ${error instanceof Error ? error.message : 'unknown error'}` };
}

