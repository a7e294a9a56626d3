#!/usr/bin/env bash
# `npm test`: installs what the tests need on a fresh machine (npm packages, Debian's Chromium and Firefox ESR),
# starts an installed PostgreSQL (it does not install one), builds every workspace once, then runs type checks, unit tests and journeys.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase says when it starts, so a slow run shows where its time went (the whole must stay under 10 minutes on 2 cores).
phase() { echo "== $1 (at ${SECONDS} s)"; }
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# Waits for a background step; on failure prints its log and stops the run.
finish() {
  local pid=$1 name=$2 status=0
  wait "$pid" || status=$?
  if [ "$status" -ne 0 ]; then
    cat "$logs/$name.log"
    echo "== $name failed (exit $status)"
    exit "$status"
  fi
}

# The journeys drive Debian's browsers, never downloaded ones: Chromium (Playwright; the journeys of server
# pages alone in its headless shell, the extension's in the full browser) and Firefox ESR (puppeteer-core over
# WebDriver BiDi, test/e2e/firefox-*.spec.ts). Installed beside everything up to the journeys.
MISSING_BROWSERS=""
[ -x /usr/bin/chromium ] || MISSING_BROWSERS="$MISSING_BROWSERS chromium"
[ -x /usr/bin/chromium-headless-shell ] || MISSING_BROWSERS="$MISSING_BROWSERS chromium-headless-shell"
[ -x /usr/bin/firefox-esr ] || MISSING_BROWSERS="$MISSING_BROWSERS firefox-esr"
browsers_pid=""
if [ -n "$MISSING_BROWSERS" ]; then
  phase "installing Debian's$MISSING_BROWSERS (beside the next steps)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # shellcheck disable=SC2086 # one word per package
  ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING_BROWSERS) >"$logs/browsers.log" 2>&1 &
  browsers_pid=$!
fi

if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "== starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
# The tests' database (LATCHKEY_TEST_DATABASE_URL, by default the `test` database as `postgres` over TCP):
# a fresh Debian PostgreSQL has no `test` database, so it is created as the `postgres` system user (peer
# authentication on the local socket) when it is missing. A login that is refused is said here, in one
# line, instead of as a hundred failed PostgreSQL tests.
if [ -z "${LATCHKEY_TEST_DATABASE_URL:-}" ] && command -v psql >/dev/null; then
  if ! psql -h 127.0.0.1 -U postgres -d test -Atqc 'select 1' >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
      su postgres -c "createdb test" >/dev/null 2>&1 && echo "== created the PostgreSQL database test"
    fi
    psql -h 127.0.0.1 -U postgres -d test -Atqc 'select 1' >/dev/null 2>&1 ||
      { echo "== PostgreSQL refused postgres@127.0.0.1:5432/test: see README.md (Tests) for the database and login the tests need"; exit 1; }
  fi
fi

# better-sqlite3's install script compiles SQLite when it cannot download a prebuilt binary; nothing before
# the unit tests needs it, so it is built beside the build and static checks. For the tests it is compiled at
# -O1 instead of the package's -O3: the same SQLite source, in half the time (measured 2026-11-30 on 2 cores,
# alone: 120 s at -O3, 56 s at -O1), and it is the longest step before the unit tests. A marker file says so,
# and `npm run bench` refuses such a build (it would time a slower SQLite); `npm rebuild better-sqlite3`
# (or the README's `npm ci`) builds it the package's way again.
QUICK_SQLITE_MARKER=node_modules/better-sqlite3/build/Release/latchkey-quick-test-build
native_pid=""
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  phase "installing npm packages (npm ci; better-sqlite3's native build beside the next steps)"
  npm ci --no-audit --no-fund --ignore-scripts
  # The packages package.json allows install scripts for (allowScripts), run as npm ci would run them.
  npm rebuild esbuild
  (CFLAGS=-O1 CXXFLAGS=-O1 npm rebuild better-sqlite3 &&
    if [ -d node_modules/better-sqlite3/build/Release/obj.target ]; then touch "$QUICK_SQLITE_MARKER"; fi) >"$logs/better-sqlite3.log" 2>&1 &
  native_pid=$!
fi

phase "build (with the extension test build the journeys load)"
LATCHKEY_TEST_BUILD=1 npm run build

# Static checks need no server, browser or native module.
phase "web-ext lint (the Firefox build, as the add-on store checks it)"
npm run lint:firefox -w extension
phase "format and lint (Biome)"
npm run lint
phase "typecheck"
npm run typecheck

if [ -n "$native_pid" ]; then
  phase "waiting for better-sqlite3's native build"
  finish "$native_pid" better-sqlite3
fi
phase "unit and service tests (SQLite and PostgreSQL)"
npm run test:unit

if [ -n "$browsers_pid" ]; then
  phase "waiting for Debian's$MISSING_BROWSERS"
  finish "$browsers_pid" browsers
fi
phase "journeys (Playwright: Debian Chromium; puppeteer-core: Debian Firefox ESR)"
npm run test:e2e
phase "all passed"
