import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AccountView, TabContext } from '../background/messages.js';
import { handOverToSecurityKey, send } from './api.js';
import { ClockWarning } from './ClockWarning.js';
import { accountsForTab } from './accounts-for-tab.js';
import { Header, Icon, LiveStatus, Notice } from './components.js';
import { firstExpiry } from './first-expiry.js';
import { displayOrigin, groupDigits, secondsLeft } from './format.js';

const SEARCH_THRESHOLD = 5;

interface Props {
  tab: TabContext;
  notice?: string | undefined;
  /** A warning that must not be missed (an older copy of the vault was opened); takes focus. */
  alert?: string | undefined;
  /** Accounts the popup already fetched while opening; loaded here otherwise. */
  initialAccounts?: AccountView[] | undefined;
  /** The search to start with (back from editing: the one the edit was started from). */
  initialQuery?: string | undefined;
  /** The account whose Edit button takes the focus once it is listed (back from editing it). */
  focusAccount?: string | undefined;
  onAdd: () => void;
  /** `query`: the search at the time, so the list can come back with it. */
  onEdit: (account: AccountView, query: string) => void;
  onSettings: () => void;
  onLocked: (notice?: string) => void;
}

export function AccountList(props: Props) {
  const [accounts, setAccounts] = useState<AccountView[] | null>(props.initialAccounts ?? null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'error'; text: string } | null>(null);
  /** A fill's result, shown in the row whose Fill was pressed (it was at the top, out of view below many accounts). */
  const [filled, setFilled] = useState<{ id: string; text: string } | null>(null);
  const [query, setQuery] = useState(props.initialQuery ?? '');
  const [now, setNow] = useState(Date.now());
  /** When the vault locks unless the person acts (learnt from the first `codes` answer). */
  const [lockAt, setLockAt] = useState<number | null>(null);
  const fetchedFor = useRef(0);
  const focusedAccount = useRef(false);

  /** `refresh`: the list renewing itself on a timer, which must not keep the vault unlocked. */
  async function load(refresh = false) {
    const result = await send({ type: 'codes', refresh });
    if (!result.ok) {
      if (result.code === 'locked') return props.onLocked();
      return setError(result.error);
    }
    setAccounts(result.accounts);
    setLockAt(result.lockAt);
  }

  useEffect(() => {
    if (!props.initialAccounts) void load();
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  // Fetch fresh codes once the first shown code has expired. Judged by when the background computed them
  // (validUntil), not by when this list appeared: codes computed just before a period turned over are
  // replaced within a second, not shown stale for a whole period. Also when the auto-lock is due, so an
  // open popup left alone goes to the lock screen then (the answer is "locked"), not a period later.
  // Once per due time, so a failed fetch is not retried every second.
  useEffect(() => {
    const due = Math.min(firstExpiry(accounts ?? []) ?? Number.POSITIVE_INFINITY, lockAt ?? Number.POSITIVE_INFINITY);
    if (!Number.isFinite(due) || now < due || fetchedFor.current === due) return;
    fetchedFor.current = due;
    void load(true);
  }, [now, accounts, lockAt]);

  // The search filters only while its box is shown: a search kept from before an edit (a delete may leave too few
  // accounts for the box) must not hide the list with nothing on screen to clear it (review).
  const searching = accounts !== null && accounts.length > SEARCH_THRESHOLD;
  const visible = useMemo(() => {
    const needle = searching ? query.trim().toLowerCase() : '';
    if (!accounts || needle === '') return accounts ?? [];
    return accounts.filter((a) => `${a.issuer} ${a.label} ${a.origin}`.toLowerCase().includes(needle));
  }, [accounts, query, searching]);

  // Once, when the rows are there (they load after the screen took the focus on its heading); a row the search no
  // longer shows, or a deleted account, leaves the focus on the heading. Only while the focus is still where the
  // screen change put it: a person who tabbed on while the rows loaded (Add account, Lock now) had it taken back
  // to the row when they came (QA).
  useEffect(() => {
    if (!props.focusAccount || !accounts || focusedAccount.current) return;
    focusedAccount.current = true;
    const active = document.activeElement;
    if (active !== null && active !== document.body && !active.matches('main h1')) return;
    const row = document.querySelector(`.account[data-account-id="${CSS.escape(props.focusAccount)}"]`);
    row?.querySelector<HTMLElement>('button[data-action="edit"]')?.focus({ preventScroll: true });
    // The whole row in view, not only its button (focus alone left it half out at the bottom); centred, as the
    // notice ("Saved.") arrives just after and pushes the list down.
    row?.scrollIntoView({ block: 'center' });
  }, [accounts]);

  const matching = accounts?.filter((a) => a.origin === props.tab.origin) ?? [];
  // Those that fill on this tab first, under their own heading: the only rows with Fill, wherever they were added.
  const groups = useMemo(() => accountsForTab(visible, props.tab.origin), [visible, props.tab.origin]);

  async function lock() {
    const result = await send({ type: 'lock' });
    // Showing the lock screen while the key is still kept would say "locked" when it is not.
    if (!result.ok) return setMessage({ kind: 'error', text: `The vault was not locked: ${result.error}` });
    props.onLocked();
  }

  async function fill(account: AccountView) {
    if (props.tab.tabId === null) return;
    setMessage(null);
    // Emptied first, so a second fill of the same row is said again.
    setFilled(null);
    const result = await send({ type: 'fill', id: account.id, tabId: props.tab.tabId });
    if (!result.ok) {
      if (result.code === 'locked') return props.onLocked();
      return setMessage({ kind: 'error', text: result.error });
    }
    setFilled({ id: account.id, text: result.submitted ? 'Code filled and submitted.' : 'Code filled. Check the page and continue.' });
  }

  async function useSecurityKey() {
    if (props.tab.tabId === null) return;
    const error = await handOverToSecurityKey(props.tab.tabId);
    if (error) setMessage({ kind: 'error', text: error });
  }

  const row = (account: AccountView) => (
    <AccountRow
      key={account.id}
      account={account}
      now={now}
      canFill={account.origin === props.tab.origin}
      filled={filled?.id === account.id ? filled.text : null}
      onFill={() => fill(account)}
      onEdit={() => props.onEdit(account, query)}
      onCopyFailed={() =>
        setMessage({ kind: 'error', text: 'The browser did not let Latchkey copy the code. Select the digits and copy them yourself, or use Fill.' })
      }
    />
  );

  return (
    <main class="screen">
      <Header title="Latchkey">
        <button type="button" class="icon-button" onClick={props.onAdd} aria-label="Add account" title="Add account">
          <Icon name="plus" />
        </button>
        <button type="button" class="icon-button" onClick={props.onSettings} aria-label="Settings" title="Settings">
          <Icon name="gear" />
        </button>
        <button type="button" class="icon-button" onClick={lock} aria-label="Lock now" title="Lock now">
          <Icon name="lock" />
        </button>
      </Header>

      {props.alert ? <Notice kind="error">{props.alert}</Notice> : null}
      <LiveStatus kind="info" text={props.notice ?? null} />
      {error ? <Notice kind="error">{error}</Notice> : null}
      <ClockWarning tabId={props.tab.tabId} hasAccount={matching.length > 0} />
      <SiteBanner tab={props.tab} matching={matching.length} hasAccounts={(accounts?.length ?? 0) > 0} onSecurityKey={useSecurityKey} />
      {message ? <Notice kind="error">{message.text}</Notice> : null}

      {searching ? (
        <div class="search">
          <Icon name="search" />
          <input
            type="search"
            dir="auto"
            aria-label="Search accounts"
            placeholder="Search accounts"
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
        </div>
      ) : null}

      {accounts === null ? (
        <div class="list-placeholder" aria-busy="true" />
      ) : accounts.length === 0 ? (
        <EmptyState onAdd={props.onAdd} />
      ) : groups.here.length > 0 && groups.others.length > 0 ? (
        <>
          <h2 class="accounts-heading" id="accounts-here">
            Fills on this site
          </h2>
          <ul class="accounts" aria-labelledby="accounts-here">
            {groups.here.map(row)}
          </ul>
          <h2 class="accounts-heading" id="accounts-others">
            Other accounts
          </h2>
          <ul class="accounts" aria-labelledby="accounts-others">
            {groups.others.map(row)}
          </ul>
        </>
      ) : (
        <ul class="accounts" aria-label="Accounts">
          {[...groups.here, ...groups.others].map(row)}
          {visible.length === 0 ? (
            <li class="accounts-none">
              No account matches “<bdi dir="auto">{query}</bdi>”.
            </li>
          ) : null}
        </ul>
      )}
    </main>
  );
}

function SiteBanner(props: { tab: TabContext; matching: number; hasAccounts: boolean; onSecurityKey: () => void }) {
  const { tab } = props;
  if (!tab.hasCodeField && !tab.hasSecurityKey) return null;
  return (
    <section class="site-banner" aria-label="This page">
      <p>
        Two-factor step on <strong>{tab.origin ? displayOrigin(tab.origin) : 'this page'}</strong>
      </p>
      {tab.hasCodeField && props.matching === 0 && props.hasAccounts ? (
        <p class="site-banner-warning" role="status">
          No account here fills on this exact site, so Latchkey will not fill a code. Codes only go to the site they were saved for — check the address bar.
        </p>
      ) : null}
      {tab.hasSecurityKey ? (
        <button type="button" class="button button-secondary" onClick={props.onSecurityKey}>
          <Icon name="key" /> Use security key
        </button>
      ) : null}
    </section>
  );
}

function AccountRow(props: {
  account: AccountView;
  now: number;
  canFill: boolean;
  /** The result of this row's Fill, said in the row (where the person pressed it) and scrolled into view. */
  filled: string | null;
  onFill: () => void;
  onEdit: () => void;
  onCopyFailed: () => void;
}) {
  const { account, now } = props;
  const [copied, setCopied] = useState(false);
  const result = useRef<HTMLDivElement>(null);
  // The live region shows its text a moment after it changes (LiveStatus); then the row, result included, is in view.
  useEffect(() => {
    if (!props.filled) return;
    const timer = setTimeout(() => result.current?.scrollIntoView({ block: 'nearest' }), 100);
    return () => clearTimeout(timer);
  }, [props.filled]);
  const left = secondsLeft(account.period, now);
  const name = account.issuer || displayOrigin(account.origin);

  async function copy() {
    try {
      await navigator.clipboard.writeText(account.code);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // A refused clipboard write must not look like a copy (the person would paste something else).
      setCopied(false);
      props.onCopyFailed();
    }
  }

  return (
    <li class="account" data-account-id={account.id}>
      <div class="account-main">
        <div class="account-names">
          <span class="account-issuer" title={name}>
            {name}
          </span>
          <span class="account-label" title={account.label}>
            {account.label}
          </span>
        </div>
        <div class="account-code-row">
          {/* Said before the digits, as text: an aria-label on a plain span is not allowed by ARIA, so screen
              readers ignore it or (VoiceOver) read it instead of the digits. */}
          <span class="visually-hidden">{`Code for ${name} ${account.label}:`}</span>
          <span class="account-code" data-code={account.code}>
            {groupDigits(account.code)}
          </span>
          <Countdown left={left} period={account.period} />
        </div>
      </div>
      <div class="account-actions">
        {props.canFill ? (
          <button type="button" class="button button-primary button-small" onClick={props.onFill} aria-label={`Fill code for ${name} ${account.label}`}>
            Fill
          </button>
        ) : null}
        <button type="button" class="icon-button" onClick={copy} aria-label={`Copy code for ${name} ${account.label}`} title="Copy code">
          <Icon name={copied ? 'check' : 'copy'} />
        </button>
        <button type="button" class="icon-button" data-action="edit" onClick={props.onEdit} aria-label={`Edit ${name} ${account.label}`} title="Edit">
          <Icon name="edit" />
        </button>
        <span class="copied" role="status" aria-live="polite">
          {copied ? 'Copied' : ''}
        </span>
      </div>
      {props.canFill ? (
        <div class="account-result" ref={result}>
          <LiveStatus kind="success" text={props.filled} />
        </div>
      ) : null}
    </li>
  );
}

function Countdown(props: { left: number; period: number }) {
  const fraction = props.left / props.period;
  const circumference = 2 * Math.PI * 9;
  return (
    <span class={`countdown${props.period > 99 ? ' countdown-long' : ''}${props.left <= 5 ? ' countdown-ending' : ''}`} title={`${props.left} s left`}>
      <svg viewBox="0 0 24 24" aria-hidden="true">
        <circle cx="12" cy="12" r="9" class="countdown-track" />
        <circle cx="12" cy="12" r="9" class="countdown-value" stroke-dasharray={circumference} stroke-dashoffset={circumference * (1 - fraction)} />
      </svg>
      <span class="countdown-text">
        {props.left}
        <span class="visually-hidden"> seconds left</span>
      </span>
    </span>
  );
}

function EmptyState(props: { onAdd: () => void }) {
  return (
    <section class="empty">
      <div class="empty-icon" aria-hidden="true">
        <Icon name="qr" />
      </div>
      <h2>No accounts yet</h2>
      <p>
        Open your package index’s two-factor setup page (on PyPI: Account settings → Add 2FA with an authentication application), then press{' '}
        <strong>Add account</strong> and scan the QR code shown on the page. You can also paste an <code>otpauth://</code> link or type the secret.
      </p>
      <button type="button" class="button button-primary" onClick={props.onAdd}>
        <Icon name="plus" /> Add account
      </button>
    </section>
  );
}
