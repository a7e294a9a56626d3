// Extension rows: vault unlock at the default KDF in headless Chromium (the real popup, driven with the
// kit) next to the same argon2id natively in Node; popup open → first code rendered; gzip size per entry.
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page, type Worker } from 'playwright-core';
import { build } from 'vite';
import { DEFAULT_KDF, KDF_MEASURE } from '../../../extension/src/vault/kdf-params.js';
import { launchBrowserWithExtension, type BrowserWithExtension } from '../../src/kit/launch-browser-with-extension.js';
import { openPopup } from '../../src/kit/open-popup.js';
import { unlockVault } from '../../src/kit/unlock-vault.js';
import { median } from '../lib/argon2-baseline.js';
import { loadArgon2Implementations, nodeRsArgon2, type Argon2Cost, type Argon2Implementation } from '../lib/argon2-implementations.js';
import { startTwoHalves } from '../lib/argon2-two-halves.js';
import { entrySize, gzipSize } from '../lib/bundle-size.js';
import type { BenchContext } from '../lib/context.js';
import type { BenchRow } from '../lib/table.js';

const SHIPPED_BUILD = fileURLToPath(new URL('../../../extension/dist/chromium', import.meta.url));
const PAGE_FUNCTIONS = fileURLToPath(new URL('../../../extension/src/content/page-functions.ts', import.meta.url));
const PASSPHRASE = 'bench vault passphrase: correct horse battery staple';
const UNLOCK_SAMPLES = 5;
/** The vault's own argon2id parameters, for the native reference and the comparisons. */
const VAULT_COST: Argon2Cost = { m: DEFAULT_KDF.m, t: DEFAULT_KDF.t, p: DEFAULT_KDF.p };
/** Unlocks each in a service worker started for it (what a person meets after 30 s away). */
const FRESH_WORKER_SAMPLES = 5;
/** Rounds of the implementation comparison (each round hashes once with every implementation). */
const COMPARE_ROUNDS = 3;
const POPUP_SAMPLES = 20;
const UNLOCK_TARGET_RATIO = 1.5;
/**
 * The popup's first code may take at most twice what the same browser needs to show a blank page of the
 * same extension (measured beside it): Latchkey adds no more than one more page's worth — its script, one
 * round trip to the background, a render. A fixed number of milliseconds judged the machine instead: a blank
 * extension page alone took 73–95 ms on one machine here, and the same popup code 65 ms on another.
 */
const POPUP_TARGET_RATIO = 2;
/** The baseline page, added to the bench's own copy of the build (the shipped files are untouched). */
const BLANK_PAGE = 'bench-blank.html';
const CONTENT_TARGET_BYTES = 2 * 1024;
const POPUP_TARGET_BYTES = 40 * 1024;

const kb = (bytes: number) => bytes / 1024;

/**
 * Runs in the popup document: when the first code element appears, records `performance.now()` of the
 * frame after it (rendered) as `__firstCode`. Self-contained, as Playwright sends it to the page as text.
 */
function watchForFirstCode(): void {
  const record = globalThis as unknown as { __firstCode?: number };
  const observer = new MutationObserver(() => {
    if (!document.querySelector('.account-code[data-code]')) return;
    observer.disconnect();
    requestAnimationFrame(() => {
      record.__firstCode = performance.now();
    });
  });
  observer.observe(document, { childList: true, subtree: true });
}

export async function benchExtension(context: BenchContext): Promise<BenchRow[]> {
  if (!existsSync(`${SHIPPED_BUILD}/manifest.json`)) {
    throw new Error(`No extension build in ${SHIPPED_BUILD}: run \`npm run build\` first.`);
  }
  const rows: BenchRow[] = [];
  rows.push(...(await sizeRows()));
  rows.push(...(await browserRows(context)));
  return rows;
}

async function sizeRows(): Promise<BenchRow[]> {
  const popup = await entrySize(SHIPPED_BUILD, 'src/popup/index.html');
  const background = await entrySize(SHIPPED_BUILD, 'service-worker-loader.js');
  // The content side is not a file in the build: the background injects single functions from
  // src/content/page-functions.ts with scripting.executeScript({func}). Bundle that module alone with the
  // extension's bundler (Vite) and minifier to size everything that can ever be injected; library mode
  // keeps whitespace, so this is an upper bound.
  const output = await build({
    configFile: false,
    logLevel: 'silent',
    build: { write: false, minify: true, lib: { entry: PAGE_FUNCTIONS, formats: ['es'], fileName: 'page-functions' } },
  });
  const chunks = (Array.isArray(output) ? output : [output]).flatMap((result) => ('output' in result ? result.output : []));
  const contentCode = chunks.map((chunk) => ('code' in chunk ? chunk.code : '')).join('\n');
  if (contentCode.length === 0) throw new Error('extension bench: bundling page-functions.ts produced no code');
  const content = gzipSize(contentCode);
  return [
    {
      section: 'extension',
      scenario: 'popup entry, gzip',
      backend: 'chromium build',
      value: { amount: kb(popup.gzipBytes), unit: 'KB' },
      target: '≤40 KB',
      met: popup.gzipBytes <= POPUP_TARGET_BYTES,
      notes: [
        `Popup HTML + JS + CSS loaded before it runs (${popup.files.join(', ')}), each file gzipped (level 9), summed. The QR decoder is loaded only when scanning (${popup.lazyFiles.join(', ') || 'none'}: ${kb(popup.lazyGzipBytes).toFixed(1)} KB gzip, not counted).`,
      ],
    },
    {
      section: 'extension',
      scenario: 'background entry, gzip',
      backend: 'chromium build',
      value: { amount: kb(background.gzipBytes), unit: 'KB' },
      notes: [`Service worker and its static imports (${background.files.join(', ')}), each gzipped, summed; no target.`],
    },
    {
      section: 'extension',
      scenario: 'content (injected page functions), gzip',
      backend: 'chromium build',
      value: { amount: kb(content), unit: 'KB' },
      target: '≤2 KB',
      met: content <= CONTENT_TARGET_BYTES,
      notes: [
        'No content script file exists: functions from src/content/page-functions.ts are injected one at a time on a user gesture. Measured: that whole module bundled and minified by Vite (library mode keeps whitespace — an upper bound), gzipped.',
      ],
    },
  ];
}

async function browserRows(context: BenchContext): Promise<BenchRow[]> {
  // The shipped build plus one blank page (the popup row's baseline), in a copy of the bench's own.
  const extensionCopy = mkdtempSync(join(tmpdir(), 'latchkey-bench-extension-'));
  cpSync(SHIPPED_BUILD, extensionCopy, { recursive: true });
  writeFileSync(
    join(extensionCopy, BLANK_PAGE),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>blank</title></head><body><p class="account-code" data-code="0">0</p></body></html>\n',
  );
  const browser = await launchBrowserWithExtension({ extensionPath: extensionCopy });
  try {
    const popupUrl = `chrome-extension://${browser.extensionId}/src/popup/index.html`;
    // Setup through the extension's own message API from one of its pages (the background accepts
    // messages only from extension pages): a vault with one account.
    const setup = await browser.context.newPage();
    await setup.goto(popupUrl);
    const setupResult = await setup.evaluate(async (passphrase) => {
      const runtime = (globalThis as unknown as { chrome: { runtime: { sendMessage(message: unknown): Promise<{ ok: boolean; error?: string }> } } }).chrome
        .runtime;
      const created = await runtime.sendMessage({ type: 'create', passphrase });
      if (!created.ok) return `create: ${created.error}`;
      const added = await runtime.sendMessage({
        type: 'add-account',
        account: { uri: 'otpauth://totp/PyPI:bench?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=PyPI', origin: 'https://pypi.org' },
      });
      if (!added.ok) return `add-account: ${added.error}`;
      const locked = await runtime.sendMessage({ type: 'lock' });
      return locked.ok ? 'ok' : `lock: ${locked.error}`;
    }, PASSPHRASE);
    if (setupResult !== 'ok') throw new Error(`extension bench setup failed: ${setupResult}`);
    await setup.close();

    // Unlock in the real toolbar popup, as a person does it: type the passphrase, press Unlock, see the
    // first code. Timed inside the popup, from the Unlock click event to the frame after the first code
    // element appears (the kit's typing and clicking over CDP are not the person's wait); the KDF's own
    // share comes from the User Timing measure the service worker leaves for each derivation.
    const tab = await browser.context.newPage();
    await tab.goto('about:blank');
    const samples = newUnlockSamples();
    const { unlockTimes, kdfTimes, nativeColdTimes, nativeWarmTimes } = samples;
    for (let i = 0; i < UNLOCK_SAMPLES; i++) {
      await timeNativePair(samples);
      const popup = await openPopup(browser.context, { forPage: tab });
      await timeUnlock(popup, browser.serviceWorker, samples);
      // Lock again for the next sample; the last one leaves the vault unlocked for the popup-open rows.
      if (i < UNLOCK_SAMPLES - 1) {
        await popup.getByRole('button', { name: 'Lock now' }).click();
        await popup.getByText('Your vault is locked.').waitFor({ state: 'visible' });
      }
      await popup.close();
      context.log(`extension: unlock ${i + 1}/${UNLOCK_SAMPLES}: ${describeLastUnlock(samples)}`);
    }
    const unlockMs = median(unlockTimes);
    const nativeWarmMs = median(nativeWarmTimes);
    const nativeColdMs = median(nativeColdTimes);
    const kdfMs = median(kdfTimes);
    const comparison = await compareImplementations(context, VAULT_COST);

    // Popup open → first code: the popup document, vault unlocked, loaded POPUP_SAMPLES times; a
    // MutationObserver installed before any popup script records when the first code element appears and
    // the frame after that (rendered), as performance.now() from the document's navigation start.
    // The blank page of the same extension, loaded alternately with the popup, is the baseline: its
    // element is in the HTML, so its time is the browser's own cost of showing an extension page.
    const page = await browser.context.newPage();
    await page.addInitScript(watchForFirstCode);
    const timeToFirstCode = async (url: string) => {
      await page.goto(url);
      await page.waitForFunction(() => (globalThis as unknown as { __firstCode?: number }).__firstCode !== undefined, undefined, { timeout: 10_000 });
      return page.evaluate(() => (globalThis as unknown as { __firstCode: number }).__firstCode);
    };
    const firstCodeTimes: number[] = [];
    const blankTimes: number[] = [];
    for (let i = 0; i < POPUP_SAMPLES; i++) {
      blankTimes.push(await timeToFirstCode(`chrome-extension://${browser.extensionId}/${BLANK_PAGE}`));
      firstCodeTimes.push(await timeToFirstCode(popupUrl));
    }
    const firstCodeMs = median(firstCodeTimes);
    const blankMs = median(blankTimes);
    await page.close();

    const fresh = await freshWorkerUnlocks(context, browser, popupUrl, tab);
    const freshUnlockMs = median(fresh.unlockTimes);
    const freshKdfMs = median(fresh.kdfTimes);
    const freshNativeWarmMs = median(fresh.nativeWarmTimes);

    return [
      {
        section: 'extension',
        scenario: `vault unlock, argon2id ${DEFAULT_KDF.m / 1024} MiB/t${DEFAULT_KDF.t}/p${DEFAULT_KDF.p} (headless Chromium)`,
        backend: 'popup',
        value: { amount: unlockMs, unit: 'ms' },
        ratios: nativeRatios(unlockMs, samples),
        target: `≤${UNLOCK_TARGET_RATIO}× native (warm)`,
        met: unlockMs / nativeWarmMs <= UNLOCK_TARGET_RATIO,
        notes: [
          `Median of ${UNLOCK_SAMPLES} unlocks in the real toolbar popup (kit openPopup + unlockVault): from the Unlock click to the frame after the first code appears, timed in the popup (${unlockTimes.map((t) => t.toFixed(0)).join(', ')} ms). Native: @node-rs/argon2 with the vault's own parameters in the driver (lanes on threads, as the binding runs them), two hashes right before each unlock — cold, the first after the gap, its 64 MiB mapped afresh (median ${nativeColdMs.toFixed(0)} ms: ${nativeColdTimes.map((t) => t.toFixed(0)).join(', ')}), and warm, right after it (median ${nativeWarmMs.toFixed(0)} ms: ${nativeWarmTimes.map((t) => t.toFixed(0)).join(', ')}). The vault's WebAssembly heap is warm here (the worker derived before, and WebAssembly memory is never returned), so the target is judged against the warm hash. The machine may be shared: only ratios within the run mean anything.`,
        ],
      },
      {
        section: 'extension',
        scenario: `vault KDF alone, argon2id ${DEFAULT_KDF.m / 1024} MiB/t${DEFAULT_KDF.t}/p${DEFAULT_KDF.p} (service worker)`,
        backend: 'WebAssembly SIMD',
        value: { amount: kdfMs, unit: 'ms' },
        ratios: nativeRatios(kdfMs, samples),
        notes: [
          `The latchkey:kdf User Timing measure the service worker leaves for each derivation during the unlocks above (${kdfTimes.map((t) => t.toFixed(0)).join(', ')} ms): libargon2 compiled to WebAssembly with SIMD, lanes one after another. The rest of the unlock is messaging, decryption and rendering.`,
        ],
      },
      {
        section: 'extension',
        scenario: `vault unlock in a service worker started for it, argon2id ${DEFAULT_KDF.m / 1024} MiB/t${DEFAULT_KDF.t}/p${DEFAULT_KDF.p} (headless Chromium)`,
        backend: 'popup',
        value: { amount: freshUnlockMs, unit: 'ms' },
        ratios: nativeRatios(freshUnlockMs, fresh),
        target: `≤${UNLOCK_TARGET_RATIO}× native (warm)`,
        met: freshUnlockMs / freshNativeWarmMs <= UNLOCK_TARGET_RATIO,
        notes: [
          `As the row above, but before each unlock the extension's service worker is stopped (CDP ServiceWorker.stopAllWorkers, as Chromium stops it after 30 s idle) and woken by the popup: the first derivation of a fresh WebAssembly instance, whose heap only the warm-up (started by the popup's status request) has touched. The popup waits ${TYPING_PAUSE_MS} ms on the lock screen before the passphrase is typed (a person takes longer to type one). Unlock median of ${fresh.unlockTimes.length} (${fresh.unlockTimes.map((t) => t.toFixed(0)).join(', ')} ms); KDF ${fresh.kdfTimes.map((t) => t.toFixed(0)).join(', ')} ms (median ${freshKdfMs.toFixed(0)}); native cold ${fresh.nativeColdTimes.map((t) => t.toFixed(0)).join(', ')}, warm ${fresh.nativeWarmTimes.map((t) => t.toFixed(0)).join(', ')} ms, two before each unlock.`,
        ],
      },
      ...comparison,
      {
        section: 'extension',
        scenario: 'popup open → first code rendered',
        backend: 'popup',
        value: { amount: firstCodeMs, unit: 'ms' },
        ratios: [{ value: firstCodeMs / blankMs, to: `a blank extension page (${blankMs.toFixed(0)} ms; ${(firstCodeMs - blankMs).toFixed(0)} ms more)` }],
        target: `≤${POPUP_TARGET_RATIO}× blank page`,
        met: firstCodeMs <= POPUP_TARGET_RATIO * blankMs,
        notes: [
          `Median of ${POPUP_SAMPLES} loads of the popup document (vault unlocked): navigation start → the frame after the first code element appears (min ${Math.min(...firstCodeTimes).toFixed(0)}, max ${Math.max(...firstCodeTimes).toFixed(0)} ms). Loaded in a tab so a script can watch from the first byte; the toolbar bubble's own window creation is not included. Baseline, loaded alternately with it in the same tab: a blank page of the same extension whose code element is in its HTML (median ${blankMs.toFixed(0)} ms, min ${Math.min(...blankTimes).toFixed(0)}, max ${Math.max(...blankTimes).toFixed(0)}) — what the browser itself needs to show an extension page.`,
        ],
      },
    ];
  } finally {
    await browser.close();
    rmSync(extensionCopy, { recursive: true, force: true });
  }
}

/** Milliseconds the fresh-worker unlocks wait on the lock screen, standing in for typing the passphrase. */
const TYPING_PAUSE_MS = 1_000;

/** Unlocks timed in the popup, each with the two native hashes taken right before it. */
interface UnlockSamples {
  unlockTimes: number[];
  kdfTimes: number[];
  nativeColdTimes: number[];
  nativeWarmTimes: number[];
}

const newUnlockSamples = (): UnlockSamples => ({ unlockTimes: [], kdfTimes: [], nativeColdTimes: [], nativeWarmTimes: [] });

/**
 * Native, cold and warm, right before an unlock (so each pair runs under the machine conditions of its
 * unlock): the first hash after the seconds an unlock takes finds its 64 MiB returned to the operating
 * system by the allocator and maps fresh pages (measured in Node: ~90 ms after 1 s idle, ~100 ms of CPU in
 * the kernel, against ~27 ms for a hash right after another). The vault's WebAssembly heap is warm for the
 * unlocks (a worker that derived before keeps it, WebAssembly memory is never returned, and a fresh
 * worker's warm-up touches it while the lock screen shows), so the warm hash is the like-for-like
 * reference and the target is judged against it; the ratio to the cold one is reported beside it.
 */
async function timeNativePair(samples: UnlockSamples): Promise<void> {
  samples.nativeColdTimes.push(await timeOnce(nodeRsArgon2, VAULT_COST));
  samples.nativeWarmTimes.push(await timeOnce(nodeRsArgon2, VAULT_COST));
}

/**
 * One unlock in `popup`, which is opening on the lock screen: timed inside the popup from the Unlock
 * click event to the frame after the first code element appears (the kit's typing and clicking over CDP
 * are not the person's wait), and the KDF's own share from the User Timing measure `worker` left for it.
 */
async function timeUnlock(popup: Page, worker: Worker, samples: UnlockSamples, pauseBeforeTypingMs = 0): Promise<void> {
  await popup.getByText('Your vault is locked.').waitFor({ state: 'visible', timeout: 10_000 });
  await popup.evaluate(watchForFirstCode);
  await popup.evaluate(() => {
    const record = globalThis as unknown as { __unlockClicked?: number };
    document.addEventListener('click', () => (record.__unlockClicked ??= performance.now()), { capture: true });
  });
  if (pauseBeforeTypingMs > 0) await new Promise((done) => setTimeout(done, pauseBeforeTypingMs));
  await unlockVault(popup, PASSPHRASE, { timeout: 60_000 });
  await popup.waitForFunction(() => (globalThis as unknown as { __firstCode?: number }).__firstCode !== undefined, undefined, { timeout: 10_000 });
  samples.unlockTimes.push(
    await popup.evaluate(() => {
      const record = globalThis as unknown as { __unlockClicked: number; __firstCode: number };
      return record.__firstCode - record.__unlockClicked;
    }),
  );
  samples.kdfTimes.push(await worker.evaluate((name) => performance.getEntriesByName(name).at(-1)?.duration ?? Number.NaN, KDF_MEASURE));
}

const describeLastUnlock = (samples: UnlockSamples) =>
  `${samples.unlockTimes.at(-1)!.toFixed(0)} ms, KDF ${samples.kdfTimes.at(-1)!.toFixed(0)} ms (native @node-rs/argon2 cold ${samples.nativeColdTimes.at(-1)!.toFixed(0)} ms, warm ${samples.nativeWarmTimes.at(-1)!.toFixed(0)} ms)`;

/** `ms` against the median native hashes of `samples`: warm (the target's reference) and cold. */
const nativeRatios = (ms: number, samples: UnlockSamples) => [
  { value: ms / median(samples.nativeWarmTimes), to: 'native @node-rs/argon2 (warm)' },
  { value: ms / median(samples.nativeColdTimes), to: 'native (cold)' },
];

/**
 * Unlocks, each in a service worker stopped just before (what Chromium does after 30 s without events)
 * and woken again. Runs last: Playwright's context does not pick up a restarted service worker, so the
 * kit's openPopup (which evaluates chrome.action.openPopup() in the context's worker) cannot be used
 * after it; the worker is found over a fresh CDP connection instead, and the popup attached the way
 * the kit does it. Leaves the vault locked.
 */
async function freshWorkerUnlocks(bench: BenchContext, browser: BrowserWithExtension, popupUrl: string, tab: Page): Promise<UnlockSamples> {
  const { context, devtoolsUrl, extensionId } = browser;
  const connections: Browser[] = [];
  // An extension page (not the popup URL itself) to wake the worker with a request it ignores: the
  // popup's own `status` request is what starts the warm-up, as it is for a person.
  const waker = await context.newPage();
  await waker.goto(`${popupUrl}?bench-waker`);
  const send = (message: { type: string }) =>
    waker.evaluate(
      (request) =>
        (globalThis as unknown as { chrome: { runtime: { sendMessage(message: unknown): Promise<unknown> } } }).chrome.runtime
          .sendMessage(request)
          .catch(() => undefined),
      message,
    );
  await send({ type: 'lock' });
  const cdp = await context.newCDPSession(tab);
  const result = newUnlockSamples();
  try {
    await cdp.send('ServiceWorker.enable');
    for (let i = 0; i < FRESH_WORKER_SAMPLES; i++) {
      await timeNativePair(result);
      await cdp.send('ServiceWorker.stopAllWorkers');
      await send({ type: 'bench-wake' });
      const devtools = await chromium.connectOverCDP(devtoolsUrl);
      connections.push(devtools);
      const worker = devtools
        .contexts()
        .flatMap((candidate) => candidate.serviceWorkers())
        .find((candidate) => candidate.url().startsWith(`chrome-extension://${extensionId}/`));
      if (worker === undefined) throw new Error('extension bench: the service worker did not start again');
      const popup = await openPopupWith(worker, devtoolsUrl, popupUrl, tab, connections);
      await timeUnlock(popup, worker, result, TYPING_PAUSE_MS);
      await popup.getByRole('button', { name: 'Lock now' }).click();
      await popup.getByText('Your vault is locked.').waitFor({ state: 'visible' });
      await popup.close();
      bench.log(`extension: unlock in a fresh service worker ${i + 1}/${FRESH_WORKER_SAMPLES}: ${describeLastUnlock(result)}`);
    }
  } finally {
    await cdp.detach().catch(() => undefined);
    await waker.close();
    for (const connection of connections) await connection.close().catch(() => undefined);
  }
  return result;
}

/** The kit's openPopup, with the service worker given (see freshWorkerUnlocks). */
async function openPopupWith(worker: Worker, devtoolsUrl: string, popupUrl: string, forPage: Page, connections: Browser[]): Promise<Page> {
  await forPage.bringToFront();
  await worker.evaluate(() => (globalThis as unknown as { chrome: { action: { openPopup(): Promise<void> } } }).chrome.action.openPopup());
  const deadline = Date.now() + 10_000;
  for (;;) {
    const targets = (await (await fetch(`${devtoolsUrl}/json/list`)).json()) as Array<{ type: string; url: string }>;
    if (targets.some((target) => target.type === 'page' && target.url === popupUrl)) break;
    if (Date.now() > deadline) throw new Error(`extension bench: ${popupUrl} did not open`);
    await new Promise((done) => setTimeout(done, 25));
  }
  const devtools = await chromium.connectOverCDP(devtoolsUrl);
  connections.push(devtools);
  const popup = devtools
    .contexts()
    .flatMap((candidate) => candidate.pages())
    .find((page) => page.url() === popupUrl);
  if (popup === undefined) throw new Error(`extension bench: ${popupUrl} closed before it could be attached`);
  await popup.waitForLoadState('domcontentloaded');
  return popup;
}

async function timeOnce(implementation: Argon2Implementation, cost: Argon2Cost): Promise<number> {
  const started = performance.now();
  await implementation.hash(cost, new TextEncoder().encode(PASSPHRASE), crypto.getRandomValues(new Uint8Array(16)));
  return performance.now() - started;
}

/**
 * Every argon2id implementation on npm worth considering, at the vault's parameters in this process,
 * interleaved round by round so each sees the same machine; ratios to @node-rs/argon2 in the same rounds.
 * The pure-JavaScript one runs once per run (seconds per hash). Tags must all agree.
 */
async function compareImplementations(context: BenchContext, cost: Argon2Cost): Promise<BenchRow[]> {
  const implementations = await loadArgon2Implementations();
  const extension = implementations.find((implementation) => implementation.name.startsWith('extension'))!;
  // RFC 9106 §4's alternative for an implementation without threads: p = 1, same memory and passes.
  const oneLane: Argon2Cost = { ...cost, p: 1 };
  const runs = [
    ...implementations.map((implementation) => ({ implementation, cost })),
    { implementation: nodeRsArgon2, cost: oneLane },
    { implementation: extension, cost: oneLane },
  ];
  const key = (run: (typeof runs)[number]) => `${run.implementation.name} p=${run.cost.p}`;
  const password = new TextEncoder().encode(PASSPHRASE);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const references = new Map<number, string>();
  for (const p of [cost.p, oneLane.p]) references.set(p, Buffer.from(await nodeRsArgon2.hash({ ...cost, p }, password, salt)).toString('hex'));
  const times = new Map<string, number[]>(runs.map((run) => [key(run), []]));
  const twoHalves = await startTwoHalves();
  const twoHalvesTimes: number[] = [];
  for (let round = 0; round < COMPARE_ROUNDS; round++) {
    for (const run of runs) {
      if (run.implementation.kind === 'js' && round > 0) continue;
      const started = performance.now();
      const tag = Buffer.from(await run.implementation.hash(run.cost, password, salt)).toString('hex');
      times.get(key(run))!.push(performance.now() - started);
      if (tag !== references.get(run.cost.p)) throw new Error(`extension bench: ${key(run)} gave a different argon2id tag (${tag})`);
    }
    twoHalvesTimes.push(await twoHalves.time(cost));
    context.log(
      `extension: argon2id implementations, round ${round + 1}/${COMPARE_ROUNDS}: ${runs.map((run) => `${key(run)} ${times.get(key(run))!.at(-1)!.toFixed(0)} ms`).join(', ')}, extension binary in two halves at once ${twoHalvesTimes.at(-1)!.toFixed(0)} ms`,
    );
  }
  await twoHalves.close();
  const nativeP4Ms = median(times.get(key({ implementation: nodeRsArgon2, cost }))!);
  const twoHalvesMs = median(twoHalvesTimes);
  const twoHalvesRow: BenchRow = {
    section: 'extension',
    scenario: `argon2id ${cost.m / 1024} MiB/t${cost.t}/p${cost.p}: extension binary, lanes on 2 threads (upper bound)`,
    backend: 'Node, wasm ×2 workers',
    value: { amount: twoHalvesMs, unit: 'ms' },
    ratios: [{ value: twoHalvesMs / nativeP4Ms, to: `@node-rs/argon2 p=${cost.p}` }],
    notes: [
      `What running the vault's lanes on two threads could at best give with this binary, without building it: two worker_threads, each with its own instance, each computing half the work (${cost.m / 2048} MiB, t=${cost.t}, p=${cost.p / 2}) at the same moment (test/bench/lib/argon2-two-halves.ts). A real threaded build also synchronises at every slice, so it can only be slower. Median of ${twoHalvesTimes.length} (${twoHalvesTimes.map((t) => t.toFixed(0)).join(', ')} ms), ratio to the native hashes of the same rounds; not the vault's tag (two separate hashes).`,
    ],
  };
  const rows = runs.map((run): BenchRow => {
    const samples = times.get(key(run))!;
    const ms = median(samples);
    const nativeMs = median(times.get(key({ implementation: nodeRsArgon2, cost: run.cost }))!);
    return {
      section: 'extension',
      scenario: `argon2id ${run.cost.m / 1024} MiB/t${run.cost.t}/p${run.cost.p}: ${run.implementation.name}`,
      backend: `Node, ${run.implementation.kind}`,
      value: { amount: ms, unit: 'ms' },
      ratios: [{ value: ms / nativeMs, to: `@node-rs/argon2 p=${run.cost.p}` }],
      notes: [
        `${run.implementation.note} ${samples.length === 1 ? 'One hash' : `Median of ${samples.length}`} (${samples.map((t) => t.toFixed(0)).join(', ')} ms), same tag as @node-rs/argon2.`,
      ],
    };
  });
  return [...rows, twoHalvesRow];
}
