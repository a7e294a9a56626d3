#!/usr/bin/env bash
# `npm test`: installs what the tests need on a fresh machine (npm packages, Debian's Chromium,
# a running PostgreSQL), builds every workspace once, then runs type checks, unit tests and journeys.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "== starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi

echo "== build (with the extension test build the journeys load)"
LATCHKEY_TEST_BUILD=1 npm run build
echo "== typecheck"
npm run typecheck
echo "== unit and service tests (SQLite and PostgreSQL)"
npm run test:unit
echo "== journeys (Playwright, Debian Chromium)"
npm run test:e2e
