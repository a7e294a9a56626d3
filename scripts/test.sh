#!/usr/bin/env bash
# `npm test`: installs what the tests need on a fresh machine (npm packages, Debian's Chromium and Firefox ESR),
# starts an installed PostgreSQL (it does not install one), builds every workspace once, then runs type checks, unit tests and journeys.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase says when it starts, so a slow run shows where its time went (the whole must stay under 10 minutes on 2 cores).
phase() { echo "== $1 (at ${SECONDS} s)"; }

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  phase "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# The journeys drive Debian's browsers, never downloaded ones: Chromium (Playwright) and Firefox ESR
# (puppeteer-core over WebDriver BiDi, test/e2e/firefox-*.spec.ts).
MISSING_BROWSERS=""
[ -x /usr/bin/chromium ] || MISSING_BROWSERS="$MISSING_BROWSERS chromium"
[ -x /usr/bin/firefox-esr ] || MISSING_BROWSERS="$MISSING_BROWSERS firefox-esr"
if [ -n "$MISSING_BROWSERS" ]; then
  echo "== installing Debian's$MISSING_BROWSERS"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING_BROWSERS >/dev/null
fi

if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "== starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi

phase "build (with the extension test build the journeys load)"
LATCHKEY_TEST_BUILD=1 npm run build

# Static checks need no server or browser: they run beside the unit tests (mostly waiting on the
# databases), which keeps a 2-core machine busy without slowing the timing-sensitive journeys after.
# Each side writes its own log, printed whole when both are done, so the output stays readable.
logs=$(mktemp -d)
(
  echo "== web-ext lint (the Firefox build, as the add-on store checks it)"
  npm run lint:firefox -w extension
  echo "== format and lint (Biome)"
  npm run lint
  echo "== typecheck"
  npm run typecheck
) >"$logs/static.log" 2>&1 &
static_pid=$!
unit_status=0
phase "unit and service tests (SQLite and PostgreSQL), static checks beside them"
npm run test:unit || unit_status=$?
static_status=0
wait "$static_pid" || static_status=$?
cat "$logs/static.log"
rm -rf "$logs"
if [ "$static_status" -ne 0 ]; then echo "== static checks failed (exit $static_status)"; exit "$static_status"; fi
if [ "$unit_status" -ne 0 ]; then echo "== unit tests failed (exit $unit_status)"; exit "$unit_status"; fi

phase "journeys (Playwright: Debian Chromium; puppeteer-core: Debian Firefox ESR)"
npm run test:e2e
phase "all passed"
