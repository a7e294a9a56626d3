/**
 * How the kit starts Chromium on this machine (team rule 4): Debian's build, never a downloaded one,
 * and only loopback traffic — no sync, no component updates, no background requests.
 * Override the binary with `LATCHKEY_CHROMIUM` (e.g. a Chrome for Testing build elsewhere).
 */
export const CHROMIUM_EXECUTABLE = process.env.LATCHKEY_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
