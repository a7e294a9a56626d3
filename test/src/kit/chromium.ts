/**
 * How the kit starts Chromium on this machine (team rule 4): Debian's build, never a downloaded one,
 * and only loopback traffic — no sync, no component updates, no background requests.
 * Override the binary with `LATCHKEY_CHROMIUM` (e.g. a Chrome for Testing build elsewhere).
 */
export const CHROMIUM_EXECUTABLE = process.env.LATCHKEY_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Debian's `chromium-headless-shell`: the same Blink and V8 as {@link CHROMIUM_EXECUTABLE} without the
 * browser's UI layer, which is what Playwright itself runs headless tests in. It cannot load extensions,
 * so the journeys of server pages alone use it and every extension journey uses the full browser.
 * Measured on 2 cores (2026-11-30, the 37 accessibility states, one worker): 143 → 113 CPU s, the
 * browser process 32 → 16 s. Override with `LATCHKEY_CHROMIUM_HEADLESS_SHELL`.
 */
export const CHROMIUM_HEADLESS_SHELL_EXECUTABLE = process.env.LATCHKEY_CHROMIUM_HEADLESS_SHELL ?? '/usr/bin/chromium-headless-shell';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
